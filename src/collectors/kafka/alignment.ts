/** A topic partition, as kafkajs's pause() and resume() take them (grouped by topic). */
export interface TopicPartition {
  topic: string;
  partition: number;
}

interface Position {
  topic: string;
  partition: number;
  /** Newest event time read from it; -Infinity before its first event. */
  time: number;
  /** Whether it had more to read when last seen. */
  backlog: boolean;
  paused: boolean;
  /** When it last delivered (or was assigned), wall clock. */
  seenAt: number;
}

/**
 * The skew allowed while the held steps press: a second holds few steps at any rate, and is
 * wide enough that two partitions do not take turns every few messages.
 */
export const TIGHT_SKEW_MS = 1_000;

/** A partition with a backlog that delivered nothing for this long (its leader down?) holds nobody back. */
export const STALLED_AFTER_MS = 30_000;

/**
 * Keeps the partitions read with a backlog within `maxSkewMs` of each other in event time: the
 * partitions of one number across the source topics, which hold the events of the same runs
 * (producers key by correlation ID and the topics are co-partitioned); partitions of other
 * numbers hold other runs and go at their own pace.
 *
 * Read from a backlog (after downtime, or from the beginning), Kafka hands each partition over as
 * fast as its bytes allow, whatever their event time: a topic of small step messages runs hours
 * of event time ahead of the topic of their triggers. Every step read before its trigger is held
 * in memory, and past `pipeline.maxHeldSteps` the oldest are let go, so their runs never see
 * them and miss deadlines they met: a page for nothing. bench:ingest let 40k of 445k steps go
 * that way, and 12 % of its runs ended with the wrong verdict.
 *
 * So a partition more than `maxSkewMs` ahead of the furthest behind of those with a backlog (the
 * floor) is paused, and resumed once the floor is within half of that. Until every partition
 * with a backlog has delivered an event the floor is unknown, and the others wait for it after
 * their first few messages. Partitions caught up hold nobody back (at the live edge
 * there is nothing to align), nor does one that delivered nothing for STALLED_AFTER_MS. The
 * furthest behind is never paused, so reading always goes on.
 *
 * A batch is read up to its partition's limit (limitFor) and cut there: AlignedFeed parks the
 * rest and feeds it once the partition is resumed, rather than have kafkajs fetch and decode the
 * batch again. So steps are never read more than the skew (plus ALIGN_EVERY messages) ahead of
 * the triggers' partitions, whatever the fetch size.
 */
export class EventTimeAlignment {
  private readonly configuredSkewMs: number;
  /** The skew allowed now: the configured one, or TIGHT_SKEW_MS while the held steps press (tighten). */
  private maxSkewMs: number;
  private tight = false;
  private readonly positions = new Map<string, Position>();
  private paused = 0;

  constructor(maxSkewMs: number) {
    this.configuredSkewMs = maxSkewMs;
    this.maxSkewMs = maxSkewMs;
  }

  /**
   * Allows a skew of at most TIGHT_SKEW_MS (on) or the configured one again (off). The steps read ahead of their
   * triggers wait in memory up to pipeline.maxHeldSteps; at a high event rate even the configured
   * skew holds more than that, so the feed tightens the alignment while they press.
   */
  tighten(on: boolean): void {
    this.tight = on;
    this.maxSkewMs = on ? Math.min(TIGHT_SKEW_MS, this.configuredSkewMs) : this.configuredSkewMs;
  }

  get tightened(): boolean {
    return this.tight;
  }

  /** A partition assigned or read: the newest event time read from it, and whether it has more to read. */
  observe(topic: string, partition: number, time: number, backlog: boolean, now: number): void {
    const key = `${topic}\u0000${partition}`;
    const position = this.positions.get(key);
    if (position) {
      position.time = time;
      position.backlog = backlog;
      position.seenAt = now;
    } else {
      this.positions.set(key, { topic, partition, time, backlog, paused: false, seenAt: now });
    }
  }

  /**
   * How far in event time a partition may be read now: `maxSkewMs` past the furthest behind of the
   * others with a backlog; -Infinity while one of them has delivered no event yet, Infinity when
   * none holds it back. A batch is cut there (aligned-feed.ts parks the rest).
   */
  limitFor(topic: string, partition: number, now: number): number {
    return this.floor(now, partition, this.positions.get(`${topic}\u0000${partition}`)) + this.maxSkewMs;
  }

  /** Counts a partition as paused (its batch was cut at its limit). True when it was not already. */
  hold(topic: string, partition: number): boolean {
    const position = this.positions.get(`${topic}\u0000${partition}`);
    if (!position || position.paused) return false;
    position.paused = true;
    this.paused++;
    return true;
  }

  /** The partitions to pause and to resume now; they count as paused or resumed from here on. */
  decide(now: number): { pause: TopicPartition[]; resume: TopicPartition[] } {
    const floors = new Map<number, number>();
    const pause: TopicPartition[] = [];
    const resume: TopicPartition[] = [];
    for (const p of this.positions.values()) {
      let floor = floors.get(p.partition);
      if (floor === undefined) floors.set(p.partition, (floor = this.floor(now, p.partition)));
      if (p.paused) {
        // A paused partition reads nothing, so its backlog is as last seen: it is resumed when the
        // floor comes within half the skew, or when nothing holds it back any more.
        if (p.time <= floor + this.maxSkewMs / 2) {
          p.paused = false;
          this.paused--;
          resume.push({ topic: p.topic, partition: p.partition });
        }
      } else if (p.backlog && p.time > Number.NEGATIVE_INFINITY && p.time > floor + this.maxSkewMs) {
        p.paused = true;
        this.paused++;
        pause.push({ topic: p.topic, partition: p.partition });
      }
    }
    return { pause, resume };
  }

  /**
   * The furthest behind in event time of the partitions numbered `partition` (of every topic) with
   * a backlog, paused or delivering, `except` one.
   */
  private floor(now: number, partition: number, except?: Position): number {
    let floor = Number.POSITIVE_INFINITY;
    for (const p of this.positions.values()) {
      // A paused partition delivers nothing because it is paused: it is not stalled.
      if (p.partition !== partition || p === except || !p.backlog || (!p.paused && now - p.seenAt >= STALLED_AFTER_MS)) continue;
      if (p.time < floor) floor = p.time;
    }
    return floor;
  }

  /** Forgets every partition (a new assignment); returns those paused, for the consumer to resume. */
  reset(): TopicPartition[] {
    const paused = [...this.positions.values()].filter((p) => p.paused).map(({ topic, partition }) => ({ topic, partition }));
    this.positions.clear();
    this.paused = 0;
    return paused;
  }

  get pausedCount(): number {
    return this.paused;
  }
}

/** Partitions grouped by topic, as kafkajs's pause() and resume() take them. */
export function byTopic(partitions: readonly TopicPartition[]): { topic: string; partitions: number[] }[] {
  const grouped = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    const list = grouped.get(topic);
    if (list) list.push(partition);
    else grouped.set(topic, [partition]);
  }
  return [...grouped].map(([topic, partitions]) => ({ topic, partitions }));
}
