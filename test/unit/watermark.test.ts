import { describe, expect, it } from 'vitest';
import { Watermark } from '../../src/stitch/watermark.ts';

const SEC = 1_000;
const MIN = 60 * SEC;
const IDLE = 30 * SEC;
/** Event time origin. */
const T0 = Date.UTC(2024, 2, 4, 9);
/** Wall clock origin, a week later: a replay. */
const W0 = Date.UTC(2024, 2, 11, 14, 30);

describe('Watermark', () => {
  it('is minus infinity before any event', () => {
    expect(new Watermark(IDLE).at(W0)).toBe(Number.NEGATIVE_INFINITY);
  });

  it('follows the newest event time of a partition, not the wall clock', () => {
    const w = new Watermark(IDLE);
    w.observe('crm.events', 0, T0, W0);
    w.observe('crm.events', 0, T0 + 2 * MIN, W0);
    w.observe('crm.events', 0, T0 + MIN, W0);
    expect(w.at(W0)).toBe(T0 + 2 * MIN);
  });

  it('is held back by the slowest partition still delivering', () => {
    const w = new Watermark(IDLE);
    w.observe('crm.events', 0, T0 + 10 * MIN, W0);
    w.observe('billing.events', 0, T0 + 2 * MIN, W0);
    expect(w.at(W0)).toBe(T0 + 2 * MIN);
  });

  it('treats the same partition number of two topics as two partitions', () => {
    const w = new Watermark(IDLE);
    w.observe('crm.events', 3, T0 + 10 * MIN, W0);
    w.observe('billing.events', 3, T0 + MIN, W0);
    expect(w.at(W0)).toBe(T0 + MIN);
  });

  it.each([
    ['idleAdvanceAfter minus 1 ms', IDLE - 1, T0 + 2 * MIN],
    ['idleAdvanceAfter', IDLE, T0 + 10 * MIN],
  ])('a partition quiet for %s of wall time holds it back until it is idle', (_label, quiet, expected) => {
    const w = new Watermark(IDLE);
    w.observe('billing.events', 0, T0 + 2 * MIN, W0);
    w.observe('crm.events', 0, T0 + 10 * MIN, W0 + quiet);
    expect(w.at(W0 + quiet)).toBe(expected);
  });

  it.each([
    ['nowhere past the slowest partition before idleAdvanceAfter', IDLE - 1, T0 + MIN],
    ['to the newest event time at idleAdvanceAfter', IDLE, T0 + 5 * MIN],
    ['by the wall time past idleAdvanceAfter', IDLE + 7 * SEC, T0 + 5 * MIN + 7 * SEC],
    ['an hour on after an hour of quiet past the grace', IDLE + 60 * MIN, T0 + 65 * MIN],
  ])('as partitions go quiet it moves %s', (_label, quiet, expected) => {
    const w = new Watermark(IDLE);
    w.observe('crm.events', 0, T0 + 5 * MIN, W0);
    w.observe('billing.events', 0, T0 + MIN, W0);
    expect(w.at(W0 + quiet)).toBe(expected);
  });

  it('never moves backwards, even when an old event arrives after idle advance', () => {
    const w = new Watermark(IDLE);
    w.observe('crm.events', 0, T0, W0);
    const advanced = w.at(W0 + IDLE + 10 * MIN);
    expect(advanced).toBe(T0 + 10 * MIN);
    w.observe('crm.events', 0, T0 + MIN, W0 + IDLE + 10 * MIN);
    expect(w.at(W0 + IDLE + 10 * MIN)).toBe(advanced);
  });

  it('never moves backwards when a slower partition starts delivering', () => {
    const w = new Watermark(IDLE);
    w.observe('crm.events', 0, T0 + 10 * MIN, W0);
    expect(w.at(W0)).toBe(T0 + 10 * MIN);
    w.observe('billing.events', 0, T0 + MIN, W0);
    expect(w.at(W0)).toBe(T0 + 10 * MIN);
  });

  it('only moves when at() is asked: the value is what was last handed out or newer', () => {
    const w = new Watermark(IDLE);
    w.observe('crm.events', 0, T0, W0);
    expect([w.at(W0), w.at(W0 + IDLE + MIN), w.at(W0)]).toEqual([T0, T0 + MIN, T0 + MIN]);
  });

  describe('seed', () => {
    it('sets a starting point without any partition delivering', () => {
      const w = new Watermark(IDLE);
      w.seed(T0 + 5 * MIN, W0);
      w.seed(T0 + MIN, W0);
      expect(w.at(W0)).toBe(T0 + 5 * MIN);
    });

    it('is not an arrival: the wall clock advance counts from the first seed', () => {
      const w = new Watermark(IDLE);
      w.seed(T0, W0);
      w.seed(T0, W0 + 10 * MIN);
      expect(w.at(W0 + IDLE + 2 * MIN)).toBe(T0 + 2 * MIN);
    });

    it('does not let partitions behind it pull the watermark back', () => {
      const w = new Watermark(IDLE);
      w.seed(T0 + 10 * MIN, W0);
      expect(w.at(W0)).toBe(T0 + 10 * MIN);
      w.observe('crm.events', 0, T0 + MIN, W0);
      expect(w.at(W0)).toBe(T0 + 10 * MIN);
    });
  });

  describe('forgetPartitions', () => {
    it('a partition that moved away no longer holds the watermark back', () => {
      const w = new Watermark(IDLE);
      w.observe('crm.events', 0, T0 + 10 * MIN, W0);
      w.observe('billing.events', 1, T0 + MIN, W0);
      w.forgetPartitions((p) => p === 0);
      expect(w.at(W0)).toBe(T0 + 10 * MIN);
    });

    it('forgets the partition number in every topic', () => {
      const w = new Watermark(IDLE);
      w.observe('crm.events', 0, T0 + 10 * MIN, W0);
      w.observe('crm.events', 1, T0 + MIN, W0);
      w.observe('billing.events', 1, T0 + 2 * MIN, W0);
      w.forgetPartitions((p) => p !== 1);
      expect(w.at(W0)).toBe(T0 + 10 * MIN);
    });
  });
  describe('a partition that joins with a backlog after event time moved on (a rebalance)', () => {
    /** Partition 0 is live at T0 + 1h; partition 1 is handed over, its store at T0 + 1m. */
    function joined(): Watermark {
      const w = new Watermark(IDLE);
      w.observe('crm.events', 0, T0 + 60 * MIN, W0);
      expect(w.at(W0)).toBe(T0 + 60 * MIN);
      w.backlog('crm.events', 1, true, W0);
      w.seed(T0 + MIN, W0);
      return w;
    }

    it('has its own watermark, from its seed, not the instance one', () => {
      const w = joined();
      expect([w.of(1, W0), w.of(0, W0)]).toEqual([T0 + MIN, T0 + 60 * MIN]);
    });

    it('moves with the oldest of its topics as its backlog is read', () => {
      const w = joined();
      w.observe('crm.events', 1, T0 + 5 * MIN, W0 + SEC);
      w.observe('billing.events', 1, T0 + 3 * MIN, W0 + SEC);
      expect(w.of(1, W0 + SEC)).toBe(T0 + 3 * MIN);
    });

    it('does not hold the instance watermark back while it catches up', () => {
      const w = joined();
      w.observe('crm.events', 0, T0 + 61 * MIN, W0 + SEC);
      expect(w.at(W0 + SEC)).toBe(T0 + 61 * MIN);
    });

    it('holds low() at its own watermark, and low() is never ahead of the instance one', () => {
      const w = joined();
      expect(w.low(W0)).toBe(T0 + MIN);
      w.observe('crm.events', 1, T0 + 90 * MIN, W0 + SEC);
      expect([w.low(W0 + SEC), w.of(1, W0 + SEC)]).toEqual([T0 + 60 * MIN, T0 + 60 * MIN]);
    });

    it('rejoins the instance watermark once it reaches it, and then follows it', () => {
      const w = joined();
      w.observe('crm.events', 1, T0 + 60 * MIN, W0 + SEC);
      w.backlog('crm.events', 1, false, W0 + SEC);
      expect(w.of(1, W0 + SEC)).toBe(T0 + 60 * MIN);
      w.observe('crm.events', 0, T0 + 70 * MIN, W0 + 2 * SEC);
      w.observe('crm.events', 1, T0 + 65 * MIN, W0 + 2 * SEC);
      // An ordinary partition again: its slower topic holds every partition back, as before.
      expect([w.of(1, W0 + 2 * SEC), w.at(W0 + 2 * SEC)]).toEqual([T0 + 65 * MIN, T0 + 65 * MIN]);
    });

    it('rejoins when caught up and quiet for the grace period, however far behind', () => {
      const w = joined();
      w.observe('crm.events', 1, T0 + 2 * MIN, W0);
      w.backlog('crm.events', 1, false, W0);
      expect(w.of(1, W0 + IDLE - 1)).toBe(T0 + 2 * MIN);
      expect(w.of(1, W0 + IDLE)).toBe(w.at(W0 + IDLE));
    });

    it('never moves back on its own either', () => {
      const w = joined();
      w.observe('crm.events', 1, T0 + 5 * MIN, W0);
      expect(w.of(1, W0)).toBe(T0 + 5 * MIN);
      w.observe('billing.events', 1, T0 + 2 * MIN, W0);
      expect(w.of(1, W0)).toBe(T0 + 5 * MIN);
    });

    it('is forgotten when it moves away again', () => {
      const w = joined();
      w.forgetPartitions((p) => p === 0);
      expect(w.low(W0)).toBe(T0 + 60 * MIN);
    });

    it('does not apply at the first start: partitions recovered before any event time share one watermark', () => {
      const w = new Watermark(IDLE);
      w.backlog('crm.events', 0, true, W0);
      w.backlog('crm.events', 1, true, W0);
      w.seed(T0, W0);
      w.observe('crm.events', 0, T0 + 60 * MIN, W0);
      expect([w.of(0, W0), w.of(1, W0)]).toEqual([T0, T0]);
    });
  });

  describe('partitions with a backlog', () => {
    it('hold the watermark however long they wait for their turn', () => {
      const w = new Watermark(IDLE);
      w.observe('crm.events', 0, T0 + 2 * MIN, W0);
      w.backlog('crm.events', 0, true, W0);
      w.observe('ticketing.events', 0, T0 + 5 * 60 * MIN, W0 + 10 * IDLE);
      expect(w.at(W0 + 10 * IDLE)).toBe(T0 + 2 * MIN);
    });

    it('stop holding it once caught up and quiet for the grace period', () => {
      const w = new Watermark(IDLE);
      w.observe('crm.events', 0, T0 + 2 * MIN, W0);
      w.backlog('crm.events', 0, false, W0);
      w.observe('ticketing.events', 0, T0 + 5 * 60 * MIN, W0 + IDLE);
      expect(w.at(W0 + IDLE)).toBe(T0 + 5 * 60 * MIN);
    });

    it('hold it at the seed before their first message', () => {
      const w = new Watermark(IDLE);
      w.seed(T0, W0);
      w.backlog('crm.events', 1, true, W0);
      w.observe('ticketing.events', 0, T0 + 60 * MIN, W0);
      expect(w.at(W0 + 5 * IDLE)).toBe(T0);
    });

    it('assigned empty at start, hold it until their first message or the grace period: a first fetch still on its way is not overtaken', () => {
      const w = new Watermark(IDLE);
      w.backlog('crm.events', 0, false, W0);
      w.backlog('ticketing.events', 0, false, W0);
      w.observe('crm.events', 0, T0 + 5 * 60 * MIN, W0 + SEC);
      expect(w.at(W0 + SEC)).toBe(Number.NEGATIVE_INFINITY);
      w.observe('ticketing.events', 0, T0, W0 + 2 * SEC);
      expect(w.at(W0 + 2 * SEC)).toBe(T0);
      // Never delivering: it stops holding it after the grace period, as any quiet partition.
      const quiet = new Watermark(IDLE);
      quiet.backlog('ticketing.events', 0, false, W0);
      quiet.observe('crm.events', 0, T0 + 60 * MIN, W0 + SEC);
      expect(quiet.at(W0 + IDLE)).toBe(T0 + 60 * MIN);
    });

    it('are not tracked when reported caught up before any message once event time has started (a rebalance)', () => {
      const w = new Watermark(IDLE);
      w.observe('ticketing.events', 0, T0 + 60 * MIN, W0);
      expect(w.at(W0)).toBe(T0 + 60 * MIN);
      w.backlog('crm.events', 1, false, W0);
      w.observe('ticketing.events', 0, T0 + 61 * MIN, W0);
      expect(w.at(W0)).toBe(T0 + 61 * MIN);
    });
  });
});
