import type { DeadLetterReason } from '../domain/dead-letter.ts';
import type { RawMessage } from './decode/message.ts';

/** What became of one message: taken as an event (or a redelivery of one), or dead-lettered and why. */
export type ProcessResult = { ok: true } | { ok: false; reason: DeadLetterReason; detail: string };

/** A position in one partition of one topic: the next offset to read once committed. */
export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

/** Commits offsets once their batch is stored. */
export type OffsetCommitter = (offsets: readonly TopicPartitionOffset[]) => Promise<void>;

/** Where reading a newly owned partition resumes, and how far it goes now. */
export interface PartitionPosition {
  topic: string;
  partition: number;
  /** The group's committed offset; "-1" when nothing was committed. */
  committed: string;
  /** The oldest and the next offset the broker has. */
  low: string;
  high: string;
}

/**
 * What a collector feeds: the ingest pipeline implements it. A collector knows messages,
 * partitions and offsets; what becomes of a message (decode, stitch, judge, store) is the
 * pipeline's. Defined here, below the pipeline, so a collector never imports what is above it.
 */
export interface Intake {
  /** Takes one message. Never throws for bad input: that becomes a dead letter, and the result says why. */
  process(message: RawMessage): ProcessResult;
  /** Records a message the collector itself refused (an HTTP body with a bad signature) as a dead letter. */
  refuse(message: RawMessage, reason: DeadLetterReason, detail: string): void;
  /** Tells event time whether a partition still has a backlog to read. */
  partitionBacklog(topic: string, partition: number, hasBacklog: boolean): void;
  /** The newest event time read from a partition; -Infinity before its first event. */
  partitionEventTime(topic: string, partition: number): number;
  /** The steps held for their triggers, as a share of pipeline.maxHeldSteps (0 without a cap). */
  heldStepsShare(): number;
  /** How many partitions the collector holds paused because they ran ahead of the others in event time (kafka.maxEventTimeSkew). */
  partitionsPaused(count: number): void;
  /** Newly owned partitions: rebuilds what they own from the store before their first message. */
  recover(positions: readonly PartitionPosition[]): Promise<void>;
  /** The partitions owned now, by topic; what belonged to others is forgotten. Returns the runs dropped. */
  retainPartitions(assignment: Readonly<Record<string, readonly number[]>>): number;
  /** Moves event time on without new messages. */
  tick(): void;
  flushDue(): boolean;
  /** True when intake must wait for the store before taking more. */
  overloaded(): boolean;
  flush(): Promise<void>;
  /** Rows taken but not yet acknowledged by the store. */
  readonly bufferedRows: number;
  /** Stops retrying writes: used at the shutdown deadline. */
  abortRetries(): void;
  updateGauges(): void;
}
