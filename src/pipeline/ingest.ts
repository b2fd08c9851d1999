import type { Logger } from 'pino';
import type { SeamwatchConfig } from '../config/schema.ts';
import type { DeadLetter } from '../collectors/dead-letter.ts';
import { decoderFor, type Decoder, type RawMessage } from '../collectors/decode/index.ts';
import { retry } from '../lifecycle/retry.ts';
import { Stitcher } from '../stitch/stitcher.ts';
import { batchRows, type Store, type StoreBatch } from '../store/store.ts';
import type { PipelineMetrics } from '../telemetry/pipeline-metrics.ts';
import { OffsetTracker, type TopicPartitionOffset } from './offsets.ts';
import { isRetryableStoreError } from './store-errors.ts';
import type { AlertEngine } from '../alerts/engine.ts';
import { compileClassifier, type Classifier } from '../alerts/detectors/error-class.ts';

/** Where dead letters go besides the store: the Kafka dead-letter topic. */
export interface DeadLetterSink {
  send(letters: readonly DeadLetter[]): Promise<void>;
}

/** Commits offsets once their batch is stored. Returns false when they could not be committed. */
export type OffsetCommitter = (offsets: readonly TopicPartitionOffset[]) => Promise<void>;

export interface IngestOptions {
  config: SeamwatchConfig;
  store: Store;
  deadLetterSink: DeadLetterSink;
  commit: OffsetCommitter;
  metrics: PipelineMetrics;
  logger: Logger;
  /** Business-alert detectors, fed each new event and each run change. */
  alerts?: AlertEngine;
  now?: () => number;
}

/**
 * Decode → dedupe → stitch → store → commit, independent of where messages come from.
 * Rows are buffered and written in batches; offsets are committed only after the store (and
 * the dead-letter topic) acknowledged everything before them: at-least-once, and replay-safe
 * because every row is idempotent.
 */
export class IngestPipeline {
  readonly stitcher: Stitcher;
  private readonly decoders: Map<string, Decoder>;
  private readonly options: IngestOptions;
  private readonly offsets = new OffsetTracker();
  private deadLetters: DeadLetter[] = [];
  private flushChain: Promise<void> = Promise.resolve();
  private queuedFlush: Promise<void> | undefined;
  private inflightRows = 0;
  private lastFlush: number;
  private readonly now: () => number;
  private readonly abort = new AbortController();
  private lastStoreError = '';
  private readonly classifyError: Classifier;
  /**
   * The event-time watermark as of the last flush the store acknowledged: every run verdict and
   * SLO outcome decided by then is in the store. SLO evaluation reads up to here, not further.
   */
  storedWatermark = Number.NEGATIVE_INFINITY;

  constructor(options: IngestOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.lastFlush = this.now();
    const { config } = options;
    this.stitcher = new Stitcher(config.workflows, config.pipeline, config.slos);
    this.decoders = new Map(config.sources.map((s) => [s.topic, decoderFor(s)]));
    this.classifyError = compileClassifier(config.detectors.errors);
  }

  get alerts(): AlertEngine | undefined {
    return this.options.alerts;
  }

  get topics(): string[] {
    return [...this.decoders.keys()];
  }

  /** Takes one message. Never throws for bad input: that becomes a dead letter. */
  process(message: RawMessage): void {
    const { metrics } = this.options;
    const decoder = this.decoders.get(message.origin.topic);
    const result = decoder
      ? decoder(message)
      : ({ ok: false, reason: 'not-cloudevent', detail: `no source configured for topic "${message.origin.topic}"` } as const);
    if (result.ok) {
      const now = this.now();
      if (this.stitcher.apply(result.event, now)) {
        metrics.eventsReceived.inc({ source: metrics.sourceLabel(result.event.source) });
        if (result.event.error) metrics.eventErrors.inc({ source: metrics.sourceLabel(result.event.source), class: this.classifyError(result.event.error) });
        // Redeliveries never reach the detectors: a redelivered invoice is not a duplicate.
        const { alerts } = this.options;
        if (alerts?.hasEventDetectors) alerts.onEvent(result.event, this.stitcher.watermarkAt(now));
      } else metrics.duplicates.inc();
    } else {
      this.deadLetters.push({
        reason: result.reason,
        detail: result.detail,
        origin: message.origin,
        raw: message.value,
        headers: message.headers,
        key: message.key,
        at: this.now(),
      });
      metrics.deadLetter(message.origin.topic, result.reason);
    }
    this.offsets.processed(message.origin.topic, message.origin.partition, message.origin.offset);
  }

  /** Rows processed but not yet acknowledged by the store. */
  get bufferedRows(): number {
    return this.stitcher.pendingRows + this.deadLetters.length + this.inflightRows;
  }

  /** True when a flush is due by size or by time. */
  flushDue(): boolean {
    const { flushRows, flushInterval } = this.options.config.pipeline;
    const pending = this.stitcher.pendingRows + this.deadLetters.length;
    if (pending >= flushRows) return true;
    if (this.now() - this.lastFlush < flushInterval) return false;
    // Also when only event time moved on (sources quiet): deadlines and SLO verdicts may be due.
    return this.offsets.size > 0 || pending > 0 || this.stitcher.watermarkAt(this.now()) - this.storedWatermark >= 60_000;
  }

  /** True when intake must wait for the store before taking more. */
  overloaded(): boolean {
    return this.bufferedRows >= this.options.config.pipeline.maxBufferedRows;
  }

  /** Moves event time on (deadlines) without new events. */
  tick(): void {
    const now = this.now();
    this.stitcher.tick(now);
    this.options.alerts?.tick(this.stitcher.watermarkAt(now));
  }

  /**
   * Writes everything buffered and commits the offsets behind it. Flushes run one after
   * another; each takes a consistent snapshot of the stitcher's output and the offsets.
   */
  flush(): Promise<void> {
    // One flush waits behind the running one at most: while the store is down, timers keep
    // asking for flushes, and each would otherwise queue up for nothing.
    if (this.queuedFlush) return this.queuedFlush;
    const next = this.flushChain.then(() => {
      this.queuedFlush = undefined;
      return this.flushOnce();
    });
    this.queuedFlush = next;
    this.flushChain = next.catch(() => undefined);
    return next;
  }

  private async flushOnce(): Promise<void> {
    this.lastFlush = this.now();
    // Judge everything due at this watermark first, so the flush holds every verdict up to it.
    const now = this.now();
    this.stitcher.tick(now);
    const watermark = this.stitcher.watermarkAt(now);
    const output = this.stitcher.drain(now);
    this.options.alerts?.onRunRecords(output.runs, watermark);
    const batch: StoreBatch = { ...output, deadLetters: this.deadLetters };
    this.deadLetters = [];
    const offsets = this.offsets.take();
    const rows = batchRows(batch);
    if (rows === 0 && offsets.length === 0) {
      // Nothing was decided that is not stored already: event time is stored up to here.
      if (watermark > this.storedWatermark) this.storedWatermark = watermark;
      return;
    }
    const { store, deadLetterSink, commit, metrics, logger } = this.options;
    const timer = metrics.flushSeconds.startTimer();
    this.inflightRows = rows;
    metrics.bufferedRows.set(this.bufferedRows);
    try {
      if (rows > 0) {
        await this.retryUntilStored('store', () => store.write(batch), rows);
        if (batch.deadLetters.length > 0) {
          await this.retryUntilStored('dead-letter topic', () => deadLetterSink.send(batch.deadLetters), batch.deadLetters.length);
        }
        metrics.rowsWritten.inc({ table: 'events' }, batch.events.length);
        metrics.rowsWritten.inc({ table: 'runs' }, batch.runs.length);
        metrics.rowsWritten.inc({ table: 'spans' }, batch.spans.length);
        metrics.rowsWritten.inc({ table: 'dead_letters' }, batch.deadLetters.length);
        metrics.rowsWritten.inc({ table: 'slo_outcomes' }, batch.sloOutcomes.length);
      }
      if (watermark > this.storedWatermark) this.storedWatermark = watermark;
      if (offsets.length > 0) {
        try {
          await commit(offsets);
        } catch (error) {
          // The rows are stored; only the commit failed (a rebalance, usually). Whoever reads
          // these messages again writes the same rows, so this is safe to leave for later.
          logger.warn({ err: error, partitions: offsets.length }, 'offset commit failed; will retry with the next flush');
          this.offsets.restore(offsets);
          return;
        }
      }
      for (const o of offsets) metrics.committedOffset.set({ topic: o.topic, partition: String(o.partition) }, Number(o.offset));
    } catch (error) {
      // Nothing was committed: the messages will be read again and their rows replace these.
      this.offsets.restore(offsets);
      throw error;
    } finally {
      this.inflightRows = 0;
      timer();
      metrics.bufferedRows.set(this.bufferedRows);
    }
  }

  private async retryUntilStored(target: string, write: () => Promise<void>, rows: number): Promise<void> {
    const { metrics, logger } = this.options;
    await retry(write, {
      baseMs: 200,
      maxMs: 10_000,
      deadlineMs: Number.POSITIVE_INFINITY,
      isRetryable: () => !this.abort.signal.aborted,
      signal: this.abort.signal,
      onRetry: (error, attempt, waitMs) => {
        const retryable = target !== 'store' || isRetryableStoreError(error);
        metrics.storeErrors.inc({ retryable: String(retryable) });
        const message = `${target}: ${error instanceof Error ? error.message : String(error)}`;
        // One log line per kind of failure, not one per attempt.
        if (message !== this.lastStoreError) {
          logger[retryable ? 'warn' : 'error'](
            { err: error, target, attempt, waitMs, rows, retryable },
            retryable ? 'write failed; holding intake and retrying' : 'write rejected; holding the partitions until it is fixed',
          );
          this.lastStoreError = message;
        }
      },
    });
    if (this.lastStoreError) logger.info({ target, rows }, 'write recovered');
    this.lastStoreError = '';
  }

  /** Forgets offsets of partitions this instance no longer owns. */
  retainOffsets(owned: (topic: string, partition: number) => boolean): void {
    this.offsets.retain(owned);
  }

  /** Stops retrying store writes: used on shutdown deadline. */
  abortRetries(): void {
    this.abort.abort();
  }

  updateGauges(): void {
    const { metrics } = this.options;
    for (const [state, count] of Object.entries(this.stitcher.stateCounts())) metrics.runsInMemory.set({ state }, count);
    metrics.heldEvents.set(this.stitcher.heldCount());
    metrics.bufferedRows.set(this.bufferedRows);
  }
}
