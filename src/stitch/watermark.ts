interface Source {
  topic: string;
  partition: number;
  /** Newest event time delivered; -Infinity before the first. */
  max: number;
  lastArrival: number;
  backlog: boolean;
}

/** A partition assigned with a backlog while this instance's event time had already moved on. */
interface Joining {
  /** Where its stored events had reached (the recovery seed); -Infinity when none were stored. */
  seed: number;
  /** The watermark last handed out for it: it never moves back either. */
  current: number;
}

/**
 * Event-time clock. Each input partition keeps the newest event time seen in it; the watermark
 * is the oldest of those among partitions still delivering, so a topic read ahead of another
 * (a replay, a lagging source) cannot push deadlines past events not yet read. A partition with
 * a backlog (told by the collector, from its lag) always counts as delivering, however long it
 * waits for its turn; one that has not delivered yet holds the watermark at its seed. A
 * caught-up partition that stays quiet for a grace period stops holding it back, and when every
 * partition is quiet the watermark moves on with the wall clock, so deadlines still pass when
 * nothing arrives. A replay of last week gets the same verdicts as live. It never moves back.
 *
 * A partition number newly assigned with a backlog after event time has moved on (a rebalance
 * hands over a partition that lags) is *joining*: it has its own watermark, from its recovery
 * seed and the oldest of its topics' event times, until that reaches the instance's; its runs
 * are judged on it (`of`), so its unread backlog is not judged by the others' later time. It
 * does not hold the instance's watermark back meanwhile (runs live on one partition number,
 * topics being co-partitioned), but it does hold `low`, what everything instance-wide (SLO
 * evaluation, detectors) is told.
 */
export class Watermark {
  private readonly partitions = new Map<string, Source>();
  /** The entry observe() found last (see there); cleared when entries are dropped. */
  private lastObserved: Source | undefined;
  private readonly joining = new Map<number, Joining>();
  private readonly idleAdvanceAfterMs: number;
  private current = Number.NEGATIVE_INFINITY;
  private seeded = Number.NEGATIVE_INFINITY;
  private lastArrival = Number.NEGATIVE_INFINITY;

  constructor(idleAdvanceAfterMs: number) {
    this.idleAdvanceAfterMs = idleAdvanceAfterMs;
  }

  observe(topic: string, partition: number, eventTime: number, now: number): void {
    // A Kafka batch is one partition's: the entry of the event before is nearly always this one's.
    let entry = this.lastObserved;
    if (entry === undefined || entry.partition !== partition || entry.topic !== topic) entry = this.lastObserved = this.partitions.get(`${topic}\u0000${partition}`);
    if (entry) {
      if (eventTime > entry.max) entry.max = eventTime;
      entry.lastArrival = now;
    } else {
      this.partitions.set(`${topic}\u0000${partition}`, { topic, partition, max: eventTime, lastArrival: now, backlog: false });
    }
    // A joining partition's arrivals are its own: they do not keep the others from going idle.
    if (!this.joining.has(partition)) this.lastArrival = now;
  }

  /** The newest event time delivered by a topic partition; -Infinity before its first. */
  newest(topic: string, partition: number): number {
    return this.partitions.get(`${topic}\u0000${partition}`)?.max ?? Number.NEGATIVE_INFINITY;
  }

  /** Whether a partition still has messages to read (from the consumer's lag, or at assignment). */
  backlog(topic: string, partition: number, hasBacklog: boolean, now: number): void {
    const key = `${topic}\u0000${partition}`;
    const entry = this.partitions.get(key);
    if (entry) {
      entry.backlog = hasBacklog;
      return;
    }
    if (!hasBacklog) {
      // Assigned before event time started: it holds it (at the seed) until it delivers or has
      // been quiet for the grace period, like any partition. One that others' later events
      // could otherwise overtake while its first fetch is on its way.
      if (this.current === Number.NEGATIVE_INFINITY) this.partitions.set(key, { topic, partition, max: Number.NEGATIVE_INFINITY, lastArrival: now, backlog: false });
      return;
    }
    const known = [...this.partitions.values()].some((e) => e.partition === partition);
    if (!known && this.current !== Number.NEGATIVE_INFINITY) this.joining.set(partition, { seed: Number.NEGATIVE_INFINITY, current: Number.NEGATIVE_INFINITY });
    this.partitions.set(key, { topic, partition, max: Number.NEGATIVE_INFINITY, lastArrival: now, backlog: true });
  }

  /**
   * Sets a starting point after recovery, without counting as an arrival. Joining partitions not
   * seeded yet take it as theirs: it is what their own stored events had reached.
   */
  seed(eventTime: number, now: number): void {
    if (eventTime > this.seeded) this.seeded = eventTime;
    for (const joining of this.joining.values()) if (joining.seed === Number.NEGATIVE_INFINITY) joining.seed = eventTime;
    if (this.lastArrival === Number.NEGATIVE_INFINITY) this.lastArrival = now;
  }

  /** Forgets partitions that moved to another instance. */
  forgetPartitions(keep: (partition: number) => boolean): void {
    for (const [key, entry] of this.partitions) if (!keep(entry.partition)) this.partitions.delete(key);
    this.lastObserved = undefined;
    for (const partition of this.joining.keys()) if (!keep(partition)) this.joining.delete(partition);
  }

  /** The instance's watermark: what runs on every partition number not joining are judged at. */
  at(now: number): number {
    let activeMin = Number.POSITIVE_INFINITY;
    let newest = this.seeded;
    for (const entry of this.partitions.values()) {
      if (this.joining.has(entry.partition)) continue;
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

  /** The watermark the runs of one partition number are judged at. */
  of(partition: number, now: number): number {
    const instance = this.at(now);
    const joining = this.joining.get(partition);
    return joining ? this.joiningAt(partition, joining, instance, now) : instance;
  }

  /** `of` for every partition number at one instant, each worked out once: for sweeps over many runs. */
  partitionsAt(now: number): (partition: number) => number {
    const instance = this.at(now);
    if (this.joining.size === 0) return () => instance;
    const own = new Map([...this.joining].map(([partition, joining]) => [partition, this.joiningAt(partition, joining, instance, now)]));
    return (partition) => own.get(partition) ?? instance;
  }

  /**
   * The oldest watermark of any partition: every verdict up to here is decided. What the SLO
   * evaluation and the detectors are told. It steps back once when a lagging partition joins.
   */
  low(now: number): number {
    let low = this.at(now);
    for (const [partition, joining] of this.joining) {
      const own = this.joiningAt(partition, joining, this.current, now);
      // Nothing read or stored yet: it has no runs to judge, so it holds nothing back.
      if (own !== Number.NEGATIVE_INFINITY && own < low) low = own;
    }
    return low;
  }

  /** Partition numbers judged on their own watermark now (for a gauge). */
  get joiningCount(): number {
    return this.joining.size;
  }

  /**
   * A joining partition's watermark: the oldest of its topics still delivering (its seed before
   * any arrived). It joins the instance's once it reaches it, or once it has nothing more to
   * deliver (caught up and quiet), as any partition stops holding event time back then.
   */
  private joiningAt(partition: number, joining: Joining, instance: number, now: number): number {
    let own = Number.POSITIVE_INFINITY;
    for (const entry of this.partitions.values()) {
      if (entry.partition !== partition) continue;
      if (!entry.backlog && now - entry.lastArrival >= this.idleAdvanceAfterMs) continue;
      const reached = entry.max === Number.NEGATIVE_INFINITY ? joining.seed : entry.max;
      if (reached < own) own = reached;
    }
    if (own === Number.POSITIVE_INFINITY || own >= instance) {
      this.joining.delete(partition);
      return instance;
    }
    if (own > joining.current) joining.current = own;
    return joining.current;
  }
}
