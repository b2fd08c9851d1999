/**
 * Event-time clock. Each input partition keeps the newest event time seen in it; the watermark
 * is the oldest of those among partitions still delivering, so a topic read ahead of another
 * (a replay, a lagging source) cannot push deadlines past events not yet read. A replay of last
 * week gets the same verdicts as live. When every partition goes quiet, the watermark moves on
 * with the wall clock after a grace period, so deadlines still pass when nothing arrives.
 * It never moves backwards.
 */
export class Watermark {
  private readonly partitions = new Map<string, { partition: number; max: number; lastArrival: number }>();
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
      this.partitions.set(key, { partition, max: eventTime, lastArrival: now });
    }
    this.lastArrival = now;
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
      if (now - entry.lastArrival < this.idleAdvanceAfterMs && entry.max < activeMin) activeMin = entry.max;
    }
    let candidate: number;
    if (activeMin !== Number.POSITIVE_INFINITY) candidate = activeMin;
    else if (newest === Number.NEGATIVE_INFINITY) candidate = newest;
    else candidate = newest + Math.max(0, now - this.lastArrival - this.idleAdvanceAfterMs);
    if (candidate > this.current) this.current = candidate;
    return this.current;
  }
}
