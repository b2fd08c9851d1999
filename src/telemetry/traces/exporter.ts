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
 * Sends business traces in batches, one export at a time, from a queue bounded in spans. Intake
 * never waits for it: `offer` only queues, and when the queue is full (the backend is slow or
 * down) a whole trace is dropped and counted; a batch that still fails after the exporter's own
 * retries is dropped and counted too. Re-exporting a run later is harmless: its IDs are derived.
 */
export class BusinessTraceExporter implements BusinessTraceSink {
  private readonly options: BusinessTraceExporterOptions;
  private queue: ReadableSpan[] = [];
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
    const { metrics, maxQueueSpans, maxBatchSpans, builder } = this.options;
    for (const trace of traces) {
      metrics.traces.inc();
      const spans = builder.spans(trace);
      // Whole traces or nothing: a half-exported run would look like a different story.
      if (this.stopped || this.queue.length + spans.length > maxQueueSpans) {
        this.drop(this.stopped ? 'shutdown' : 'queue_full', spans.length);
        continue;
      }
      for (const span of spans) this.queue.push(span);
    }
    metrics.queued.set(this.queue.length);
    if (this.queue.length >= maxBatchSpans) this.exportNext();
  }

  /** Spans waiting, for tests and the gauge. */
  get queuedSpans(): number {
    return this.queue.length;
  }

  /** Exports the next batch unless one is on its way. */
  private exportNext(): void {
    if (this.inFlight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.maxBatchSpans);
    this.options.metrics.queued.set(this.queue.length);
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
      if (this.queue.length >= this.options.maxBatchSpans || (this.stopped && this.queue.length > 0)) this.exportNext();
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
      this.drop('shutdown', this.queue.length);
      this.queue = [];
      this.options.metrics.queued.set(0);
      await Promise.race([this.options.exporter.shutdown(), sleep(1_000)]);
    })();
    return this.closing;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
