import type { TopicPartitionOffset } from '../collectors/intake.ts';

export type { TopicPartitionOffset };

/** a < b for non-negative decimal integers as strings, without BigInt on the hot path. */
function before(a: string, b: string): boolean {
  return a.length < b.length || (a.length === b.length && a < b);
}

export class OffsetTracker {
  /** Highest processed offset per topic partition; the next offset is computed on take(). */
  private readonly last = new Map<string, { topic: string; partition: number; offset: string }>();
  /** The entry processed() touched last, while it is still in `last` (cleared wherever entries go). */
  private lastTouched: { topic: string; partition: number; offset: string } | undefined;

  /** Marks a message as processed: the next offset to read is one past it. */
  processed(topic: string, partition: number, offset: string): void {
    // Messages come a partition's batch at a time: the entry of the message before is nearly always this one's.
    let current = this.lastTouched;
    if (current === undefined || current.partition !== partition || current.topic !== topic) current = this.lastTouched = this.last.get(`${topic}\u0000${partition}`);
    if (!current) this.last.set(`${topic}\u0000${partition}`, (this.lastTouched = { topic, partition, offset }));
    else if (before(current.offset, offset)) current.offset = offset;
  }

  /** Takes what is to be committed (the next offsets to read) and starts afresh. */
  take(): TopicPartitionOffset[] {
    const all = [...this.last.values()].map(({ topic, partition, offset }) => ({ topic, partition, offset: (BigInt(offset) + 1n).toString() }));
    this.last.clear();
    this.lastTouched = undefined;
    return all;
  }

  /** Puts back offsets whose commit did not happen, unless newer ones arrived meanwhile. */
  restore(offsets: readonly TopicPartitionOffset[]): void {
    for (const o of offsets) this.processed(o.topic, o.partition, (BigInt(o.offset) - 1n).toString());
  }

  retain(keep: (topic: string, partition: number) => boolean): void {
    for (const [key, o] of this.last) if (!keep(o.topic, o.partition)) this.last.delete(key);
    this.lastTouched = undefined;
  }

  get size(): number {
    return this.last.size;
  }
}
