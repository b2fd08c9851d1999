import type { Logger } from 'pino';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { BusinessTrace, BusinessTraceSink } from '../../domain/business-trace.ts';
import type { BusinessSpanBuilder } from './spans.ts';
import type { TraceExportMetrics } from './metrics.ts';

export interface BusinessTraceExporterOptions {
  /** The OTLP exporter (or any SpanExporter): it serializes, sends and retries one batch. */
  exporter: SpanExporter;
  builder: BusinessSpanBuilder;
  metrics: TraceExportMetrics;
  logger: Logger;
  maxQueueSpans: number;
  maxBatchSpans: number;
  batchDelayMs: number;
}

/**
 * Sends business traces in batches of whole traces, one export at a time, from a queue bounded in
 * spans; spans are built when their batch goes, not in the flush that offered them. Intake
 * never waits for it: `offer` only queues, and when the queue is full (the backend is slow or
 * down) a whole trace is dropped and counted; a batch that still fails after the exporter's own
 * retries is dropped and counted too. Re-exporting a run later is harmless: its IDs are derived.
 */
export class BusinessTraceExporter implements BusinessTraceSink {
  private readonly options: BusinessTraceExporterOptions;
  /** Traces waiting, turned into spans only when their batch goes (off the flush that offered them). */
  private queue: { trace: BusinessTrace; spans: number }[] = [];
  private queuedSpanCount = 0;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Spans dropped since exports began failing, reported once when they recover. */
  private failing: { since: number; dropped: number } | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: BusinessTraceExporterOptions) {
    this.options = options;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.exportNext(), this.options.batchDelayMs);
    this.timer.unref();
  }

  offer(traces: readonly BusinessTrace[]): void {
    if (traces.length === 0) return;
    const { metrics, maxQueueSpans, maxBatchSpans } = this.options;
    for (const trace of traces) {
      metrics.traces.inc();
      // The run's root and one span per step.
      const spans = 1 + trace.steps.length;
      // Whole traces or nothing: a half-exported run would look like a different story.
      if (this.stopped || this.queuedSpanCount + spans > maxQueueSpans) {
        this.drop(this.stopped ? 'shutdown' : 'queue_full', spans);
        continue;
      }
      this.queue.push({ trace, spans });
      this.queuedSpanCount += spans;
    }
    metrics.queued.set(this.queuedSpanCount);
    if (this.queuedSpanCount >= maxBatchSpans) this.exportNext();
  }

  /** Spans waiting, for tests and the gauge. */
  get queuedSpans(): number {
    return this.queuedSpanCount;
  }

  /** Whole traces up to maxBatchSpans (at least one), as spans. */
  private takeBatch(): ReadableSpan[] {
    const batch: ReadableSpan[] = [];
    let taken = 0;
    let spans = 0;
    while (taken < this.queue.length && (taken === 0 || spans + this.queue[taken]!.spans <= this.options.maxBatchSpans)) spans += this.queue[taken++]!.spans;
    for (const { trace } of this.queue.splice(0, taken)) {
      try {
        batch.push(...this.options.builder.spans(trace));
      } catch (error) {
        this.options.logger.error({ err: error, correlationId: trace.run.correlationId, workflow: trace.run.workflow }, 'could not build the spans of a business trace');
      }
    }
    this.queuedSpanCount -= spans;
    return batch;
  }

  /** Exports the next batch unless one is on its way. */
  private exportNext(): void {
    if (this.inFlight || this.queue.length === 0) return;
    const batch = this.takeBatch();
    this.options.metrics.queued.set(this.queuedSpanCount);
    if (batch.length === 0) return;
    this.inFlight = new Promise<ExportResult>((resolve) => {
      try {
        this.options.exporter.export(batch, resolve);
      } catch (error) {
        resolve({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
      }
    }).then((result) => {
      this.inFlight = undefined;
      this.settle(batch.length, result);
      // A full batch waiting goes at once; a partial one waits for the timer to fill it.
      if (this.queuedSpanCount >= this.options.maxBatchSpans || (this.stopped && this.queue.length > 0)) this.exportNext();
    });
  }

  private settle(spans: number, result: ExportResult): void {
    const { metrics, logger } = this.options;
    if (result.code === ExportResultCode.SUCCESS) {
      metrics.exported.inc(spans);
      if (this.failing) {
        logger.info({ droppedSpans: this.failing.dropped, failingMs: Date.now() - this.failing.since }, 'business trace export recovered');
        this.failing = undefined;
      }
      return;
    }
    if (!this.failing) logger.warn({ err: result.error, spans }, 'business trace export failed; dropping spans until the backend answers');
    this.drop('export_failed', spans);
  }

  private drop(reason: 'queue_full' | 'export_failed' | 'shutdown', spans: number): void {
    if (spans === 0) return;
    this.options.metrics.dropped.inc({ reason }, spans);
    if (reason === 'shutdown') return;
    this.failing ??= { since: Date.now(), dropped: 0 };
    this.failing.dropped += spans;
  }

  /**
   * Stops taking traces, sends what is queued within the deadline, then closes the exporter.
   * Safe twice and before start(); what is left at the deadline is dropped and counted.
   */
  shutdown(deadlineMs = 5_000): Promise<void> {
    this.closing ??= (async () => {
      this.stopped = true;
      if (this.timer) clearInterval(this.timer);
      this.timer = undefined;
      const deadline = Date.now() + deadlineMs;
      while ((this.queue.length > 0 || this.inFlight) && Date.now() < deadline) {
        this.exportNext();
        await Promise.race([this.inFlight, sleep(Math.max(0, deadline - Date.now()))]);
      }
      this.drop('shutdown', this.queuedSpanCount);
      this.queue = [];
      this.queuedSpanCount = 0;
      this.options.metrics.queued.set(0);
      await Promise.race([this.options.exporter.shutdown(), sleep(1_000)]);
    })();
    return this.closing;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
