import { describe, expect, it } from 'vitest';
import { OffsetTracker } from '../../src/pipeline/offsets.ts';

/** Beyond Number.MAX_SAFE_INTEGER: a Number would round these. */
const BIG = '9223372036854775805';

describe('OffsetTracker', () => {
  it('the offset to commit is one past the last processed message', () => {
    const t = new OffsetTracker();
    t.processed('crm.events', 0, '41');
    expect(t.take()).toEqual([{ topic: 'crm.events', partition: 0, offset: '42' }]);
  });

  it('keeps 64-bit offsets exact', () => {
    const t = new OffsetTracker();
    t.processed('crm.events', 0, BIG);
    t.processed('crm.events', 1, '9007199254740992');
    expect(t.take()).toEqual([
      { topic: 'crm.events', partition: 0, offset: '9223372036854775806' },
      { topic: 'crm.events', partition: 1, offset: '9007199254740993' },
    ]);
  });

  it('keeps the highest offset per partition, whatever order they are marked in', () => {
    const t = new OffsetTracker();
    for (const offset of ['5', '9', '7', '10', '2']) t.processed('crm.events', 0, offset);
    expect(t.take()).toEqual([{ topic: 'crm.events', partition: 0, offset: '11' }]);
  });

  it('compares offsets as numbers, not as strings', () => {
    const t = new OffsetTracker();
    t.processed('crm.events', 0, '100');
    t.processed('crm.events', 0, '99');
    t.processed('billing.events', 0, '9');
    t.processed('billing.events', 0, '10');
    expect(t.take()).toEqual([
      { topic: 'crm.events', partition: 0, offset: '101' },
      { topic: 'billing.events', partition: 0, offset: '11' },
    ]);
  });

  it('tracks each topic and partition on its own, including the same partition number in two topics', () => {
    const t = new OffsetTracker();
    t.processed('crm.events', 0, '1');
    t.processed('crm.events', 1, '2');
    t.processed('billing.events', 0, '3');
    expect(t.size).toBe(3);
    expect(t.take()).toEqual([
      { topic: 'crm.events', partition: 0, offset: '2' },
      { topic: 'crm.events', partition: 1, offset: '3' },
      { topic: 'billing.events', partition: 0, offset: '4' },
    ]);
  });

  it('take hands everything out once and starts afresh', () => {
    const t = new OffsetTracker();
    t.processed('crm.events', 0, '1');
    t.take();
    expect([t.take(), t.size]).toEqual([[], 0]);
    t.processed('crm.events', 0, '2');
    expect(t.take()).toEqual([{ topic: 'crm.events', partition: 0, offset: '3' }]);
  });

  it('restore puts back offsets whose commit failed', () => {
    const t = new OffsetTracker();
    t.processed('crm.events', 0, BIG);
    const taken = t.take();
    t.restore(taken);
    expect(t.take()).toEqual(taken);
  });

  it('restore does not move a partition back behind messages processed meanwhile', () => {
    const t = new OffsetTracker();
    t.processed('crm.events', 0, '10');
    t.processed('crm.events', 1, '10');
    const taken = t.take();
    t.processed('crm.events', 0, '20');
    t.restore(taken);
    expect(t.take()).toEqual([
      { topic: 'crm.events', partition: 0, offset: '21' },
      { topic: 'crm.events', partition: 1, offset: '11' },
    ]);
  });

  it('restore of offset 0 (nothing processed yet) puts back 0', () => {
    const t = new OffsetTracker();
    t.restore([{ topic: 'crm.events', partition: 0, offset: '0' }]);
    expect(t.take()).toEqual([{ topic: 'crm.events', partition: 0, offset: '0' }]);
  });

  it('retain forgets partitions this instance no longer owns', () => {
    const t = new OffsetTracker();
    t.processed('crm.events', 0, '1');
    t.processed('crm.events', 1, '1');
    t.processed('billing.events', 1, '1');
    t.retain((topic, partition) => partition === 1 && topic === 'crm.events');
    expect(t.take()).toEqual([{ topic: 'crm.events', partition: 1, offset: '2' }]);
  });
});
