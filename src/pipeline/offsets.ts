/** Next offsets to commit, per topic partition. Offsets are strings, as Kafka's are 64-bit. */
export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

export class OffsetTracker {
  private readonly next = new Map<string, TopicPartitionOffset>();

  /** Marks a message as processed: the next offset to read is one past it. */
  processed(topic: string, partition: number, offset: string): void {
    const next = (BigInt(offset) + 1n).toString();
    const key = `${topic}\u0000${partition}`;
    const current = this.next.get(key);
    if (!current || BigInt(current.offset) < BigInt(next)) this.next.set(key, { topic, partition, offset: next });
  }

  /** Takes what is to be committed and starts afresh. */
  take(): TopicPartitionOffset[] {
    const all = [...this.next.values()];
    this.next.clear();
    return all;
  }

  /** Puts back offsets whose commit did not happen, unless newer ones arrived meanwhile. */
  restore(offsets: readonly TopicPartitionOffset[]): void {
    for (const o of offsets) this.processed(o.topic, o.partition, (BigInt(o.offset) - 1n).toString());
  }

  retain(keep: (topic: string, partition: number) => boolean): void {
    for (const [key, o] of this.next) if (!keep(o.topic, o.partition)) this.next.delete(key);
  }

  get size(): number {
    return this.next.size;
  }
}
