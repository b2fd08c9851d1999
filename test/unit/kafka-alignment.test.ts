import { describe, expect, it } from 'vitest';
import { EventTimeAlignment, STALLED_AFTER_MS, byTopic } from '../../src/collectors/kafka/alignment.ts';

const S = 1_000;
const NOW = 1_000_000;
const NONE = { pause: [], resume: [] };
const UNKNOWN = Number.NEGATIVE_INFINITY;

describe('event-time alignment of partitions read from a backlog', () => {
  it('pauses a partition more than the skew ahead of the furthest behind, and resumes it within half of it', () => {
    const a = new EventTimeAlignment(30 * S);
    a.observe('crm', 0, 100 * S, true, NOW);
    a.observe('billing', 0, 125 * S, true, NOW);
    expect(a.decide(NOW)).toEqual(NONE);
    a.observe('billing', 0, 140 * S, true, NOW);
    expect(a.decide(NOW)).toEqual({ pause: [{ topic: 'billing', partition: 0 }], resume: [] });
    expect(a.pausedCount).toBe(1);
    // Within the skew but not within half of it: still paused (no flapping at the edge).
    a.observe('crm', 0, 115 * S, true, NOW);
    expect(a.decide(NOW)).toEqual(NONE);
    a.observe('crm', 0, 125 * S, true, NOW);
    expect(a.decide(NOW)).toEqual({ pause: [], resume: [{ topic: 'billing', partition: 0 }] });
    expect(a.pausedCount).toBe(0);
  });

  it('limits a batch to the skew past the furthest behind of the others; the furthest behind is not limited by itself', () => {
    const a = new EventTimeAlignment(30 * S);
    a.observe('crm', 0, 100 * S, true, NOW);
    a.observe('billing', 0, 500 * S, true, NOW);
    a.observe('ticketing', 0, 700 * S, true, NOW);
    expect(a.limitFor('billing', 0, NOW)).toBe(130 * S);
    expect(a.limitFor('ticketing', 0, NOW)).toBe(130 * S);
    expect(a.limitFor('crm', 0, NOW)).toBe(530 * S);
    expect(a.limitFor('other', 0, NOW)).toBe(130 * S); // not seen yet: held like any other
    // While one with a backlog has delivered nothing, the others may read nothing past it.
    a.observe('other', 0, UNKNOWN, true, NOW);
    expect(a.limitFor('billing', 0, NOW)).toBe(UNKNOWN);
    // Alone with a backlog, nothing holds a partition back.
    const alone = new EventTimeAlignment(30 * S);
    alone.observe('crm', 0, 100 * S, true, NOW);
    alone.observe('billing', 0, 900 * S, false, NOW);
    expect(alone.limitFor('crm', 0, NOW)).toBe(Number.POSITIVE_INFINITY);
  });

  it('a batch cut at its limit counts its partition as paused until the floor comes within half the skew', () => {
    const a = new EventTimeAlignment(30 * S);
    a.observe('crm', 0, 100 * S, true, NOW);
    a.observe('billing', 0, 131 * S, true, NOW);
    expect([a.hold('billing', 0), a.hold('billing', 0), a.pausedCount]).toEqual([true, false, 1]);
    expect(a.decide(NOW)).toEqual(NONE);
    a.observe('crm', 0, 120 * S, true, NOW);
    expect(a.decide(NOW)).toEqual({ pause: [], resume: [{ topic: 'billing', partition: 0 }] });
  });

  it('holds the others while a partition with a backlog has delivered no event yet, and lets them go once it has', () => {
    const a = new EventTimeAlignment(30 * S);
    a.observe('crm', 0, UNKNOWN, true, NOW); // assigned with a backlog
    a.observe('billing', 0, UNKNOWN, true, NOW);
    expect(a.decide(NOW)).toEqual(NONE);
    a.observe('billing', 0, 900 * S, true, NOW); // its first batch, read before the trigger topic's
    expect(a.decide(NOW)).toEqual({ pause: [{ topic: 'billing', partition: 0 }], resume: [] });
    a.observe('crm', 0, 100 * S, true, NOW);
    expect(a.decide(NOW)).toEqual(NONE); // 900 is still far ahead of 100
    a.observe('crm', 0, 890 * S, true, NOW);
    expect(a.decide(NOW)).toEqual({ pause: [], resume: [{ topic: 'billing', partition: 0 }] });
  });

  it('never pauses the furthest behind, so reading goes on', () => {
    const a = new EventTimeAlignment(10 * S);
    a.observe('a', 0, 0, true, NOW);
    a.observe('b', 0, 50 * S, true, NOW);
    a.observe('c', 0, 90 * S, true, NOW);
    expect(a.decide(NOW).pause).toEqual([
      { topic: 'b', partition: 0 },
      { topic: 'c', partition: 0 },
    ]);
    // a overtakes b: b is now the furthest behind and is resumed; c stays paused.
    a.observe('a', 0, 65 * S, true, NOW);
    expect(a.decide(NOW)).toEqual({ pause: [{ topic: 'a', partition: 0 }], resume: [{ topic: 'b', partition: 0 }] });
  });

  it('aligns the partitions of one number across topics (the same runs), not partitions of other numbers', () => {
    const a = new EventTimeAlignment(10 * S);
    a.observe('crm', 0, 0, true, NOW);
    a.observe('billing', 1, 500 * S, true, NOW); // other runs: not held back by crm 0
    a.observe('crm', 1, 490 * S, true, NOW);
    expect(a.decide(NOW)).toEqual(NONE);
    expect(a.limitFor('billing', 1, NOW)).toBe(500 * S);
    a.observe('billing', 0, 100 * S, true, NOW);
    expect(a.decide(NOW)).toEqual({ pause: [{ topic: 'billing', partition: 0 }], resume: [] });
  });

  it('lets partitions caught up hold nobody back, and resumes what waited once none with a backlog is left behind', () => {
    const a = new EventTimeAlignment(10 * S);
    a.observe('crm', 0, 0, false, NOW); // at the live edge, far behind in event time
    a.observe('billing', 0, 500 * S, true, NOW);
    expect(a.decide(NOW)).toEqual(NONE);
    const b = new EventTimeAlignment(10 * S);
    b.observe('crm', 0, 0, true, NOW);
    b.observe('billing', 0, 100 * S, true, NOW);
    expect(b.decide(NOW).pause).toHaveLength(1);
    b.observe('crm', 0, 5 * S, false, NOW); // read to its end
    expect(b.decide(NOW)).toEqual({ pause: [], resume: [{ topic: 'billing', partition: 0 }] });
  });

  it('a partition with a backlog that delivered nothing for a while (its leader down?) holds nobody back', () => {
    const a = new EventTimeAlignment(10 * S);
    a.observe('crm', 0, 0, true, NOW);
    a.observe('billing', 0, 100 * S, true, NOW);
    expect(a.decide(NOW).pause).toHaveLength(1);
    // billing is paused, not stalled: only crm's silence counts.
    expect(a.decide(NOW + STALLED_AFTER_MS - 1)).toEqual(NONE);
    expect(a.decide(NOW + STALLED_AFTER_MS)).toEqual({ pause: [], resume: [{ topic: 'billing', partition: 0 }] });
  });

  it('a new assignment starts over and hands back what was paused, to be resumed', () => {
    const a = new EventTimeAlignment(10 * S);
    a.observe('crm', 3, 0, true, NOW);
    a.observe('billing', 3, 100 * S, true, NOW);
    a.decide(NOW);
    expect(a.reset()).toEqual([{ topic: 'billing', partition: 3 }]);
    expect(a.pausedCount).toBe(0);
    expect(a.decide(NOW)).toEqual(NONE);
  });

  it('groups partitions by topic for the consumer', () => {
    expect(
      byTopic([
        { topic: 'a', partition: 1 },
        { topic: 'b', partition: 0 },
        { topic: 'a', partition: 2 },
      ]),
    ).toEqual([
      { topic: 'a', partitions: [1, 2] },
      { topic: 'b', partitions: [0] },
    ]);
  });

  it('tightened, allows a second of skew at most, and says it is tightened even when the configured skew is already that small', () => {
    const a = new EventTimeAlignment(30_000);
    a.observe('crm', 0, 100_000, true, 0);
    a.tighten(true);
    expect(a.tightened).toBe(true);
    expect(a.limitFor('billing', 0, 0)).toBe(101_000);
    a.tighten(false);
    expect(a.limitFor('billing', 0, 0)).toBe(130_000);
    // A configured skew of 0 is tighter already: tightening changes no limit, but is remembered (no flip-flop).
    const none = new EventTimeAlignment(0);
    none.tighten(true);
    expect(none.tightened).toBe(true);
  });
});
