import { describe, expect, it } from 'vitest';
import { observeActivity, observeEnd, observeWatermark, type Inactivity, type Transition } from '../../src/alerts/detectors/inactivity.ts';

/** Times in minutes from 0; a silence is 10 minutes without activity. */
const AFTER = 10;
const quiet = (last: number): Inactivity => ({ lastActivityAt: last, silentSince: undefined });
const silent = (last: number, since = last + AFTER): Inactivity => ({ lastActivityAt: last, silentSince: since });
const firing = (at: number): Transition => ({ kind: 'firing', at, since: at });
const resolved = (at: number, since: number): Transition => ({ kind: 'resolved', at, since });

describe('inactivity timer: the watermark moves on', () => {
  it.each<[string, Inactivity, number, Transition[], Inactivity]>([
    ['before the quiet period is over: nothing', quiet(0), 9, [], quiet(0)],
    ['exactly at the end of it: silent, since then', quiet(0), 10, [firing(10)], silent(0)],
    ['long after: silent since the end of the period, not since the watermark', quiet(0), 500, [firing(10)], silent(0)],
    ['already silent: nothing new', silent(0), 50, [], silent(0)],
    ['no activity ever (-Infinity): nothing to judge', quiet(Number.NEGATIVE_INFINITY), 50, [], quiet(Number.NEGATIVE_INFINITY)],
  ])('%s', (_label, timer, watermark, transitions, after) => {
    expect(observeWatermark(timer, watermark, AFTER)).toEqual(transitions);
    expect(timer).toEqual(after);
  });
});

describe('inactivity timer: activity', () => {
  it.each<[string, Inactivity, number, number, Transition[], Inactivity]>([
    ['newer activity while not silent restarts the period', quiet(0), 5, 5, [], quiet(5)],
    ['the same activity again (a redelivery): nothing', quiet(5), 5, 5, [], quiet(5)],
    ['older activity (late): nothing', quiet(5), 3, 6, [], quiet(5)],
    ['activity ends a silence, at its time', silent(0), 30, 30, [resolved(30, 10)], quiet(30)],
    ['a redelivered old event does not end a silence', silent(0), 0, 30, [], silent(0)],
    ['a gap only seen now: the silence it was, then its end', quiet(0), 30, 30, [firing(10), resolved(30, 10)], quiet(30)],
    ['a gap of exactly the period counts', quiet(0), 10, 10, [firing(10), resolved(10, 10)], quiet(10)],
    ['late activity that does not end the silence by the watermark: it goes on, no signal', silent(0), 4, 30, [], silent(4, 10)],
    ['late activity during a silence that the watermark has not passed: ends it, not before it began', silent(0), 5, 12, [resolved(10, 10)], quiet(5)],
    ['late activity already past its period: left to the next tick, after the rest of the batch', quiet(0), 5, 20, [], quiet(5)],
    ['first activity ever (from -Infinity): just the start', quiet(Number.NEGATIVE_INFINITY), 7, 7, [], quiet(7)],
  ])('%s', (_label, timer, time, watermark, transitions, after) => {
    expect(observeActivity(timer, time, watermark, AFTER)).toEqual(transitions);
    expect(timer).toEqual(after);
  });
});

describe('inactivity timer: the end', () => {
  it.each<[string, Inactivity, number, Transition[]]>([
    ['ended in time: nothing', quiet(0), 9, []],
    ['ended while silent: resolved at the end', silent(0), 30, [resolved(30, 10)]],
    ['ended after a gap not seen yet: the silence, then its end', quiet(0), 30, [firing(10), resolved(30, 10)]],
    ['a late end before the silence began: resolved when it began', silent(0), 5, [resolved(10, 10)]],
  ])('%s', (_label, timer, time, transitions) => {
    expect(observeEnd(timer, time, AFTER)).toEqual(transitions);
  });
});
