import { describe, expect, it } from 'vitest';
import { DAY, HOUR, MINUTE, SUCCESS_SLO } from '../support/slo-fixtures.ts';
import { cycleEnd, parseProgress, resumePoint, type SloProgress } from '../../src/slo/progress.ts';
import { defaultTiers } from '../../src/slo/burn-rate.ts';

const AT = Date.parse('2026-03-02T12:00:00Z');

const SLO = SUCCESS_SLO;

describe('resumePoint: where a starting engine evaluates from, and what it takes as firing', () => {
  const cases: [string, SloProgress | undefined, ReadonlySet<string> | undefined, number, string[]][] = [
    ['nothing saved, the sink knows nothing: catch up over the longest tier window (3d)', undefined, undefined, AT - 3 * DAY, []],
    ['nothing saved, the sink has nothing firing: the same', undefined, new Set(), AT - 3 * DAY, []],
    ['saved: continue where it stopped, with the saved tiers', { lastAt: AT - 2 * HOUR, firing: ['page-1h'] }, undefined, AT - 2 * HOUR, ['page-1h']],
    ['saved long ago: still continue from there (no alert skipped)', { lastAt: AT - 9 * DAY, firing: [] }, undefined, AT - 9 * DAY, []],
    ['saved, the sink still has a tier firing that the save missed: owe it a resolve', { lastAt: AT - HOUR, firing: [] }, new Set(['page-6h']), AT - HOUR, ['page-6h']],
    ['saved with a tier firing that the sink never heard of: raise it again', { lastAt: AT - HOUR, firing: ['page-1h'] }, new Set(), AT - HOUR, []],
    ['nothing saved, the sink has a tier firing: start now, where its view holds', undefined, new Set(['page-1h']), AT - MINUTE, ['page-1h']],
  ];
  it.each(cases)('%s', (_name, saved, believed, from, firing) => {
    const start = resumePoint(SLO, AT, saved, believed);
    expect(start.fromExclusive).toBe(from);
    expect([...start.firing]).toEqual(firing);
  });

  it('catches up over the longest window of the SLO\'s own tiers', () => {
    const short = { ...SLO, alerting: { ...SLO.alerting, tiers: defaultTiers(30 * DAY).slice(0, 1) } };
    expect(resumePoint(short, AT + 30_000, undefined, undefined).fromExclusive).toBe(AT - HOUR);
  });
});

describe('cycleEnd: how far one cycle goes', () => {
  it.each([
    ['up to the target when it is close', AT - 5 * MINUTE, AT, DAY, AT],
    ['at most maxCatchUp past the start', AT - 3 * DAY, AT, DAY, AT - 2 * DAY],
    ['a target within a minute counts from its minute boundary', AT - 5 * MINUTE, AT + 59_999, DAY, AT],
    ['at least one minute, whatever maxCatchUp says', AT - 5 * MINUTE, AT, 0, AT - 4 * MINUTE],
  ])('%s', (_name, from, at, max, expected) => {
    expect(cycleEnd(from, at, max)).toBe(expected);
  });
});

describe('parseProgress', () => {
  it('reads what the engine saved, and leaves out an entry it cannot use', () => {
    const text = JSON.stringify({ slos: { a: { lastAt: AT, firing: ['page-1h'] }, b: { lastAt: 'soon', firing: [] }, c: { firing: [] } } });
    expect(parseProgress(text)).toEqual(new Map([['a', { lastAt: AT, firing: ['page-1h'] }]]));
    expect(parseProgress(undefined)).toEqual(new Map());
  });
});
