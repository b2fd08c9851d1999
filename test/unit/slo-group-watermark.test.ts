import { describe, expect, it } from 'vitest';
import { GroupWatermark, groupWatermark, parseMarks } from '../../src/slo/group-watermark.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { MemorySloStore } from '../support/memory-slo-store.ts';

const T = Date.UTC(2026, 10, 30, 9);
const M = 60_000;

describe("where a consumer group's verdicts are stored up to", () => {
  const marks = new Map([
    [0, { watermark: T + 10 * M, savedAt: T }],
    [1, { watermark: T + 4 * M, savedAt: T }],
    [2, { watermark: T + 2 * M, savedAt: T - 11 * M }],
  ]);

  it('is the lowest of its own and the other partitions, leaving out its own partitions and marks nobody saved for long', () => {
    // Partition 1 is another instance's and behind: it holds the group back.
    expect(groupWatermark(T + 8 * M, new Set([0]), marks, T + M, 10 * M)).toEqual({ at: T + 4 * M, heldBy: 1 });
    // Its own partition 1's old mark (from the previous owner) does not count.
    expect(groupWatermark(T + 8 * M, new Set([0, 1]), marks, T + M, 10 * M)).toEqual({ at: T + 8 * M });
    // Partition 2's mark was last saved 12 minutes ago: its owner is gone, it holds nothing back.
    expect(groupWatermark(T + 8 * M, new Set([0, 1]), marks, T + M, 10 * M).heldBy).toBeUndefined();
    expect(groupWatermark(T + 8 * M, new Set([0, 1]), marks, T - 5 * M, 10 * M)).toEqual({ at: T + 2 * M, heldBy: 2 });
    // Ahead of it: no hold.
    expect(groupWatermark(T + 3 * M, new Set([1]), marks, T + M, 10 * M)).toEqual({ at: T + 3 * M });
    // A partition number the topics do not have (any more) holds nothing back.
    expect(groupWatermark(T + 8 * M, new Set([0]), marks, T + M, 10 * M, (p) => p < 1)).toEqual({ at: T + 8 * M });
  });

  it('reads marks leniently: keys of another shape and documents without numbers are left out', () => {
    const prefix = 'slo:g:stored:';
    const docs = new Map([
      [`${prefix}3`, JSON.stringify({ watermark: T, savedAt: T })],
      [`${prefix}x`, JSON.stringify({ watermark: T, savedAt: T })],
      [`${prefix}4`, '{"watermark":null,"savedAt":1}'],
      [`${prefix}5`, 'not json'],
    ]);
    expect(parseMarks(prefix, docs)).toEqual(new Map([[3, { watermark: T, savedAt: T }]]));
  });

  it('is published by each instance for its partitions and read back by the others through the store', async () => {
    const store = new MemorySloStore();
    let now = T;
    const heldBack: number[] = [];
    const instance = (watermark: { value: number }, partitions: number[]) =>
      new GroupWatermark({ store: store.asStore(), group: 'g', own: () => ({ watermark: watermark.value, partitions: new Set(partitions) }), logger: silentLogger(), now: () => now, heldBack: (ms) => heldBack.push(ms) });
    const aAt = { value: T + 10 * M };
    const bAt = { value: Number.NEGATIVE_INFINITY };
    const a = instance(aAt, [0, 2]);
    const b = instance(bAt, [1, 3]);
    // B has stored nothing yet (just started): it publishes nothing, and holds nothing back.
    await a.publish();
    await b.publish();
    expect(await a.at()).toBe(T + 10 * M);
    // B stores its first flush, behind A: A evaluates only up to there.
    bAt.value = T + 3 * M;
    await b.publish();
    expect(await a.at()).toBe(T + 3 * M);
    expect(heldBack.at(-1)).toBe(7 * M);
    expect(await b.at()).toBe(T + 3 * M);
    // Unchanged marks are not written again, except once a minute.
    const saves = store.saves;
    now += 30_000;
    await a.publish();
    await b.publish();
    expect(store.saves).toBe(saves);
    now += 31_000;
    await b.publish();
    expect(store.saves).toBe(saves + 1);
    // B's store writes fail for good: after an hour without a save its partitions hold A back no more.
    now += 60 * M + 1;
    await a.publish();
    expect(await a.at()).toBe(T + 10 * M);
  });
});
