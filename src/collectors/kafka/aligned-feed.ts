import type { KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { Intake, PartitionPosition } from '../intake.ts';
import { EventTimeAlignment, byTopic, type TopicPartition } from './alignment.ts';
import { toRaw } from './raw-message.ts';

/** Messages between looks at a partition's event time against its alignment limit. */
const ALIGN_EVERY = 64;
/** Rounds of feeding parked messages one batch or tick may take (see apply). */
const ALIGN_ROUNDS = 64;
/** Held steps (share of pipeline.maxHeldSteps) from which the alignment allows a second of skew at most, and below which the configured skew again. */
const TIGHTEN_AT = 0.5;
const LOOSEN_BELOW = 0.25;

/** What the feed needs from the collector around it. */
export interface FeedHost {
  intake: Intake;
  logger: Logger;
  maxEventTimeSkew: number;
  now(): number;
  /** The consumer's pause() and resume(), by topic. */
  pause(partitions: { topic: string; partitions: number[] }[]): void;
  resume(partitions: { topic: string; partitions: number[] }[]): void;
  stopRequested(): boolean;
  /** Starts a flush when one is due. */
  flushIfDue(): void;
}

/** What a batch came to: how many messages were fed, and whether the rest was parked. */
export interface Fed {
  fed: number;
  parked: boolean;
}

/**
 * Feeds Kafka messages to the intake, partitions kept together in event time (see
 * alignment.ts). A batch is fed up to its partition's limit and cut there: the rest is parked
 * here, not left to kafkajs, which would fetch and decode the whole batch again, and the
 * partition is paused. Parked messages are fed once the alignment resumes the partition; their
 * offsets are committed only once they are processed, so a crash or a rebalance reads them again.
 */
export class AlignedFeed {
  private readonly host: FeedHost;
  private readonly alignment: EventTimeAlignment;
  /** Batches cut short, by partition, and the first message not fed yet. */
  private readonly parked = new Map<string, { messages: readonly KafkaMessage[]; next: number; highWatermark: string }>();

  constructor(host: FeedHost) {
    this.host = host;
    this.alignment = new EventTimeAlignment(host.maxEventTimeSkew);
  }

  /** A new assignment: nothing stays paused or parked (kafkajs reads again from the committed offsets). */
  assigned(): void {
    this.parked.clear();
    const paused = this.alignment.reset();
    if (paused.length > 0) this.host.resume(byTopic(paused));
    this.host.intake.partitionsPaused(0);
  }

  /** Partitions rebuilt after an assignment: those with a backlog hold the others back from their first batch on. */
  recovered(positions: readonly PartitionPosition[]): void {
    for (const p of positions) {
      const start = BigInt(p.committed) < 0n ? BigInt(p.low) : BigInt(p.committed);
      this.alignment.observe(p.topic, p.partition, this.host.intake.partitionEventTime(p.topic, p.partition), start < BigInt(p.high), this.host.now());
    }
  }

  /** Feeds a batch as far as the alignment allows, parks the rest, and pauses or resumes partitions accordingly. */
  batch(topic: string, partition: number, messages: readonly KafkaMessage[], highWatermark: string): Fed {
    const fed = this.feed(topic, partition, messages);
    const wasPaused = this.alignment.pausedCount;
    if (fed < messages.length && !this.host.stopRequested()) {
      this.parked.set(`${topic}\u0000${partition}`, { messages, next: fed, highWatermark });
      this.host.intake.partitionBacklog(topic, partition, true);
      this.observe(topic, partition, true);
      if (this.alignment.hold(topic, partition)) this.host.pause([{ topic, partitions: [partition] }]);
      this.apply(wasPaused);
      return { fed, parked: true };
    }
    if (fed > 0) {
      const backlog = BigInt(messages[fed - 1]!.offset) + 1n < BigInt(highWatermark);
      this.host.intake.partitionBacklog(topic, partition, backlog);
      this.observe(topic, partition, backlog);
      this.apply(wasPaused);
    }
    return { fed, parked: false };
  }

  /** At the collector's tick: a partition holding the others back may have stalled, or been read to its end, or the held steps drained. */
  tick(): void {
    if (this.pressure() || this.alignment.pausedCount > 0) this.apply();
  }

  /** Hands messages to the intake, no further in event time than the alignment allows; returns how many. */
  private feed(topic: string, partition: number, messages: readonly KafkaMessage[], from = 0): number {
    const { intake } = this.host;
    this.pressure();
    let limit = this.alignment.limitFor(topic, partition, this.host.now());
    let next = from;
    while (next < messages.length && !this.host.stopRequested()) {
      intake.process(toRaw(messages[next]!, topic, partition));
      next++;
      if ((next - from) % ALIGN_EVERY !== 0) continue;
      if (this.pressure()) limit = this.alignment.limitFor(topic, partition, this.host.now());
      if (limit !== Number.POSITIVE_INFINITY && intake.partitionEventTime(topic, partition) > limit) break;
    }
    return next - from;
  }

  /**
   * Tightens the alignment to a second of skew while the steps held for their triggers fill half of
   * pipeline.maxHeldSteps, and loosens it again below a quarter; true when that changed.
   */
  private pressure(): boolean {
    const share = this.host.intake.heldStepsShare();
    const tight = this.alignment.tightened;
    if (tight ? share >= LOOSEN_BELOW : share < TIGHTEN_AT) return false;
    this.alignment.tighten(!tight);
    if (tight) this.host.logger.info({ heldShare: Number(share.toFixed(2)) }, 'held steps drained: partitions read from a backlog may run kafka.maxEventTimeSkew apart again');
    else this.host.logger.warn({ heldShare: Number(share.toFixed(2)), maxEventTimeSkew: this.host.maxEventTimeSkew }, 'steps held for their triggers fill half of pipeline.maxHeldSteps: partitions read from a backlog are kept within a second of each other in event time until they drain');
    return true;
  }

  private observe(topic: string, partition: number, backlog: boolean): void {
    this.alignment.observe(topic, partition, this.host.intake.partitionEventTime(topic, partition), backlog, this.host.now());
  }

  private apply(wasPaused = this.alignment.pausedCount): void {
    // Feeding a resumed partition's parked messages moves the floor, which may let another go in
    // turn (two partitions leapfrog by half the skew): a few rounds here rather than one a tick.
    for (let round = 0; round < ALIGN_ROUNDS; round++) {
      const { pause, resume } = this.alignment.decide(this.host.now());
      if (pause.length > 0) this.host.pause(byTopic(pause));
      let fed = false;
      const resumed = resume.filter((p) => {
        fed ||= this.parked.has(`${p.topic}\u0000${p.partition}`);
        return this.unpark(p);
      });
      if (resumed.length > 0) this.host.resume(byTopic(resumed));
      if (!fed || this.host.intake.overloaded() || this.host.stopRequested()) break;
    }
    const paused = this.alignment.pausedCount;
    if (paused !== wasPaused) this.host.intake.partitionsPaused(paused);
    if (wasPaused === 0 && paused > 0) this.host.logger.info({ paused, maxEventTimeSkew: this.host.maxEventTimeSkew }, 'partitions ahead in event time paused until the others catch up');
    else if (wasPaused > 0 && paused === 0) this.host.logger.info('partitions aligned in event time again: none paused');
  }

  /**
   * A partition the alignment lets go on: what it left parked is fed first, as far as the
   * alignment allows now. True when nothing is left parked and kafkajs may fetch it again;
   * otherwise it is held paused (and also while the store holds intake back).
   */
  private unpark({ topic, partition }: TopicPartition): boolean {
    const key = `${topic}\u0000${partition}`;
    const parked = this.parked.get(key);
    if (!parked) return true;
    if (this.host.intake.overloaded() || this.host.stopRequested()) {
      this.alignment.hold(topic, partition);
      return false;
    }
    const end = parked.messages[parked.messages.length - 1]!.offset;
    parked.next += this.feed(topic, partition, parked.messages, parked.next);
    const left = parked.next < parked.messages.length;
    const backlog = left || BigInt(end) + 1n < BigInt(parked.highWatermark);
    this.host.intake.partitionBacklog(topic, partition, backlog);
    // Where it stands now: read to its end, it holds nobody back any more.
    this.observe(topic, partition, backlog);
    if (left) this.alignment.hold(topic, partition);
    else this.parked.delete(key);
    this.host.flushIfDue();
    return !left;
  }
}
