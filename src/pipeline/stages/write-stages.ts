import type { Logger } from 'pino';
import { FailureLog, retry } from '../../base/retry.ts';
import type { DeadLetterSink } from '../../domain/dead-letter.ts';
import type { Store } from '../../domain/store.ts';
import type { OffsetCommitter } from '../../collectors/intake.ts';
import type { PipelineMetrics } from '../../telemetry/pipeline-metrics.ts';
import { isRetryableStoreError } from '../../store/store-errors.ts';
import { CommitFailedError, type Flush, type Stage } from '../stage.ts';

interface WriteContext {
  metrics: PipelineMetrics;
  logger: Logger;
  /** Aborted at the shutdown deadline: stop retrying. */
  signal: AbortSignal;
}

/**
 * Retries a write until it succeeds or the pipeline gives up at shutdown: intake is held
 * meanwhile (back-pressure), and nothing is committed that was not written. A failure is
 * logged once per kind, and a recovery once.
 */
class RetryingWriter {
  private readonly target: string;
  private readonly ctx: WriteContext;
  private readonly failures: FailureLog;
  private rows = 0;

  constructor(target: string, ctx: WriteContext) {
    this.target = target;
    this.ctx = ctx;
    this.failures = new FailureLog((error, attempt, waitMs) => {
      const retryable = this.retryable(error);
      ctx.logger[retryable ? 'warn' : 'error'](
        { err: error, target, attempt, waitMs, rows: this.rows, retryable },
        retryable ? 'write failed; holding intake and retrying' : 'write rejected; holding the partitions until it is fixed',
      );
    });
  }

  private retryable(error: unknown): boolean {
    return this.target !== 'store' || isRetryableStoreError(error);
  }

  async write(rows: number, write: () => Promise<void>): Promise<void> {
    this.rows = rows;
    const { ctx } = this;
    await retry(write, {
      baseMs: 200,
      maxMs: 10_000,
      deadlineMs: Number.POSITIVE_INFINITY,
      isRetryable: () => !ctx.signal.aborted,
      signal: ctx.signal,
      onRetry: (error, attempt, waitMs) => {
        ctx.metrics.storeErrors.inc({ retryable: String(this.retryable(error)) });
        this.failures.onRetry(error, attempt, waitMs);
      },
    });
    if (this.failures.recovered()) ctx.logger.info({ target: this.target, rows }, 'write recovered');
  }
}

/** Writes the batch to the store of record. */
export class StoreStage implements Stage {
  readonly name = 'store';
  private readonly store: Store;
  private readonly writer: RetryingWriter;
  private readonly metrics: PipelineMetrics;

  constructor(store: Store, ctx: WriteContext) {
    this.store = store;
    this.writer = new RetryingWriter('store', ctx);
    this.metrics = ctx.metrics;
  }

  async deliver(flush: Flush): Promise<void> {
    const { batch } = flush;
    const rows = flush.rows;
    if (rows > 0) {
      await this.writer.write(rows, () => this.store.write(batch));
      const { rowsWritten } = this.metrics;
      rowsWritten.inc({ table: 'events' }, batch.events.length);
      rowsWritten.inc({ table: 'runs' }, batch.runs.length);
      rowsWritten.inc({ table: 'spans' }, batch.spans.length);
      rowsWritten.inc({ table: 'dead_letters' }, batch.deadLetters.length);
      rowsWritten.inc({ table: 'slo_outcomes' }, batch.sloOutcomes.length);
    }
    flush.stored = true;
  }
}

/** Sends dead letters on to the dead-letter topic, untouched, with why and where from. */
export class DeadLetterStage implements Stage {
  readonly name = 'dead-letters';
  private readonly sink: DeadLetterSink;
  private readonly writer: RetryingWriter;

  constructor(sink: DeadLetterSink, ctx: WriteContext) {
    this.sink = sink;
    this.writer = new RetryingWriter('dead-letter topic', ctx);
  }

  async deliver(flush: Flush): Promise<void> {
    const letters = flush.batch.deadLetters;
    if (letters.length > 0) await this.writer.write(letters.length, () => this.sink.send(letters));
  }
}

/**
 * Saves state that must be as new as the committed offsets (the alert book and notification
 * log) before they are committed: a crash after the commit can then never lose an alert those
 * messages raised, since they will not be read again.
 */
export class StateStage implements Stage {
  readonly name = 'state';
  private readonly save: () => Promise<void>;
  private readonly writer: RetryingWriter;

  constructor(save: () => Promise<void>, ctx: WriteContext) {
    this.save = save;
    this.writer = new RetryingWriter('alert state', ctx);
  }

  async deliver(flush: Flush): Promise<void> {
    if (flush.offsets.length > 0) await this.writer.write(1, this.save);
  }
}

/** Commits the offsets behind the flush, only after everything before it was written. */
export class CommitStage implements Stage {
  readonly name = 'commit';
  private readonly commit: OffsetCommitter;
  private readonly metrics: PipelineMetrics;

  constructor(commit: OffsetCommitter, metrics: PipelineMetrics) {
    this.commit = commit;
    this.metrics = metrics;
  }

  async deliver(flush: Flush): Promise<void> {
    if (flush.offsets.length === 0) return;
    try {
      await this.commit(flush.offsets);
    } catch (error) {
      throw new CommitFailedError(error);
    }
    for (const o of flush.offsets) this.metrics.committedOffset.set({ topic: o.topic, partition: String(o.partition) }, Number(o.offset));
  }
}
