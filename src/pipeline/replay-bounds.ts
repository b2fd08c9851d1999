import type { WorkflowEvent } from '../domain/event.ts';
import type { PartitionPosition } from '../collectors/intake.ts';

/**
 * Which messages are a replay: read again after a restart or a rebalance though a flush had
 * already stored them (their commit never happened). Per partition, the newest stored offset at
 * or past the committed one, as the recovery found it; a message up to it is a replay, counted
 * as such on /metrics and never as new traffic, whatever the dedupe window still remembers.
 */
export class ReplayBounds {
  private readonly upTo = new Map<string, bigint>();

  /** After a recovery: `events` are the stored events read back for these positions. */
  recovered(positions: readonly PartitionPosition[], events: readonly WorkflowEvent[]): void {
    const committed = new Map(positions.map((p) => [key(p.topic, p.partition), BigInt(p.committed)]));
    for (const k of committed.keys()) this.upTo.delete(k);
    for (const event of events) {
      const k = key(event.origin.topic, event.origin.partition);
      const from = committed.get(k);
      if (from === undefined) continue;
      const offset = BigInt(event.origin.offset);
      if (offset >= from && offset > (this.upTo.get(k) ?? -1n)) this.upTo.set(k, offset);
    }
  }

  isReplay(event: Pick<WorkflowEvent, 'origin'>): boolean {
    if (this.upTo.size === 0) return false; // no replay pending: the usual case, asked per event
    const k = key(event.origin.topic, event.origin.partition);
    const bound = this.upTo.get(k);
    if (bound === undefined) return false;
    if (BigInt(event.origin.offset) <= bound) return true;
    this.upTo.delete(k); // past the replay: live traffic from here on
    return false;
  }

  /** Partitions moved away. */
  retain(keep: (topic: string, partition: number) => boolean): void {
    for (const k of [...this.upTo.keys()]) {
      const [topic, partition] = k.split('\u0000');
      if (!keep(topic!, Number(partition))) this.upTo.delete(k);
    }
  }
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;
