/**
 * Event-time clock. Each input partition keeps the newest event time seen in it; the watermark
 * is the oldest of those among partitions still delivering, so a topic read ahead of another
 * (a replay, a lagging source) cannot push deadlines past events not yet read. A partition with
 * a backlog (told by the collector, from its lag) always counts as delivering, however long it
 * waits for its turn; one that has not delivered yet holds the watermark at its seed. A
 * caught-up partition that stays quiet for a grace period stops holding it back, and when every
 * partition is quiet the watermark moves on with the wall clock, so deadlines still pass when
 * nothing arrives. A replay of last week gets the same verdicts as live. It never moves back.
 */
export class Watermark {
  private readonly partitions = new Map<string, { partition: number; max: number; lastArrival: number; backlog: boolean }>();
  private readonly idleAdvanceAfterMs: number;
  private current = Number.NEGATIVE_INFINITY;
  private seeded = Number.NEGATIVE_INFINITY;
  private lastArrival = Number.NEGATIVE_INFINITY;

  constructor(idleAdvanceAfterMs: number) {
    this.idleAdvanceAfterMs = idleAdvanceAfterMs;
  }

  observe(topic: string, partition: number, eventTime: number, now: number): void {
    const key = `${topic}\u0000${partition}`;
    const entry = this.partitions.get(key);
    if (entry) {
      if (eventTime > entry.max) entry.max = eventTime;
      entry.lastArrival = now;
    } else {
      this.partitions.set(key, { partition, max: eventTime, lastArrival: now, backlog: false });
    }
    this.lastArrival = now;
  }

  /** Whether a partition still has messages to read (from the consumer's lag). */
  backlog(topic: string, partition: number, hasBacklog: boolean, now: number): void {
    const key = `${topic}\u0000${partition}`;
    const entry = this.partitions.get(key);
    if (entry) entry.backlog = hasBacklog;
    else if (hasBacklog) this.partitions.set(key, { partition, max: Number.NEGATIVE_INFINITY, lastArrival: now, backlog: true });
  }

  /** Sets a starting point after recovery, without counting as an arrival. */
  seed(eventTime: number, now: number): void {
    if (eventTime > this.seeded) this.seeded = eventTime;
    if (this.lastArrival === Number.NEGATIVE_INFINITY) this.lastArrival = now;
  }

  /** Forgets partitions that moved to another instance. */
  forgetPartitions(keep: (partition: number) => boolean): void {
    for (const [key, entry] of this.partitions) if (!keep(entry.partition)) this.partitions.delete(key);
  }

  at(now: number): number {
    let activeMin = Number.POSITIVE_INFINITY;
    let newest = this.seeded;
    for (const entry of this.partitions.values()) {
      if (entry.max > newest) newest = entry.max;
      if (!entry.backlog && now - entry.lastArrival >= this.idleAdvanceAfterMs) continue;
      const reached = entry.max === Number.NEGATIVE_INFINITY ? this.seeded : entry.max;
      if (reached < activeMin) activeMin = reached;
    }
    let candidate: number;
    if (activeMin !== Number.POSITIVE_INFINITY) candidate = activeMin;
    else if (newest === Number.NEGATIVE_INFINITY) candidate = newest;
    else candidate = newest + Math.max(0, now - this.lastArrival - this.idleAdvanceAfterMs);
    if (candidate > this.current) this.current = candidate;
    return this.current;
  }
}
