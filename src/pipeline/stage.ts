import type { DeadLetter } from '../domain/dead-letter.ts';
import type { WorkflowEvent } from '../domain/event.ts';
import { batchRows, type Recovery, type StoreBatch } from '../domain/store.ts';
import type { TopicPartitionOffset } from '../collectors/intake.ts';

/**
 * One link of the ingest chain (decode → stitch → judge → detect → store → dead letters →
 * commit), in the way of Alertmanager's notify stages or a Collector's processors: the
 * pipeline calls each stage's hooks in order, and a new capability (an exporter, another
 * collector's needs) is a new stage, not an edit in the middle.
 */
export interface Stage {
  readonly name: string;
  /** A decoded event, in arrival order. Returns false to stop it here (a redelivery). */
  onEvent?(event: WorkflowEvent, now: number): boolean | void;
  /** Event time may have moved on without events: deadlines, detector timers. */
  onTick?(now: number): void;
  /** Adds what this stage decided to the flush. Synchronous: a flush is one consistent snapshot. */
  collect?(flush: Flush): void;
  /** Writes or sends the flush on. Stages deliver one after another; a throw stops the flush. */
  deliver?(flush: Flush): Promise<void>;
  /** Newly owned partitions were read back from the store. */
  onRecover?(recovered: RecoveredPartitions, now: number): void;
}

/** What a rebuild of newly owned partitions read from the store. */
export interface RecoveredPartitions extends Recovery {
  /** Stored events of the types the detectors keep memory of, behind the committed offsets. */
  detectorEvents: WorkflowEvent[];
  /** Those at or past the committed offsets: stored by a flush whose commit may not have happened. */
  uncommittedDetectorEvents: WorkflowEvent[];
}

/** One flush as it passes down the chain. */
export class Flush {
  readonly now: number;
  /** The event-time watermark the batch was judged at (set by the stitch stage). */
  watermark = Number.NEGATIVE_INFINITY;
  readonly batch: StoreBatch;
  readonly offsets: readonly TopicPartitionOffset[];
  /** Set by the store stage once the store acknowledged the batch (or there was nothing to write). */
  stored = false;

  constructor(now: number, deadLetters: DeadLetter[], offsets: readonly TopicPartitionOffset[]) {
    this.now = now;
    this.batch = { events: [], runs: [], spans: [], sloOutcomes: [], deadLetters, redeliveries: [] };
    this.offsets = offsets;
  }

  get rows(): number {
    return batchRows(this.batch);
  }

  /** Takes in the rows of an earlier flush that failed, ahead of this one's own. */
  carry(earlier: StoreBatch | undefined): void {
    if (!earlier) return;
    const { batch } = this;
    batch.events.unshift(...earlier.events);
    batch.runs.unshift(...earlier.runs);
    batch.spans.unshift(...earlier.spans);
    batch.sloOutcomes.unshift(...earlier.sloOutcomes);
    batch.deadLetters.unshift(...earlier.deadLetters);
    if (earlier.redeliveries?.length) (batch.redeliveries ??= []).unshift(...earlier.redeliveries);
  }
}

/** Thrown by the commit stage: the rows are stored, only the offsets were not committed. */
export class CommitFailedError extends Error {
  constructor(cause: unknown) {
    super(`offset commit failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'CommitFailedError';
  }
}
