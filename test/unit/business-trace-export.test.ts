import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { WorkflowDefinition } from '../../src/domain/workflow.ts';
import type { WorkflowEvent } from '../../src/domain/event.ts';
import type { BusinessTrace } from '../../src/domain/business-trace.ts';
import { Stitcher } from '../../src/stitch/stitcher.ts';
import { businessTrace } from '../../src/stitch/trace.ts';
import { BusinessTraceExporter } from '../../src/telemetry/traces/exporter.ts';
import { BusinessSpanBuilder } from '../../src/telemetry/traces/spans.ts';
import { TraceExportMetrics } from '../../src/telemetry/traces/metrics.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { exportable, TraceExportStage } from '../../src/pipeline/stages/trace-stage.ts';
import { Flush } from '../../src/pipeline/stage.ts';
import { parseConfigText } from '../../src/config/load.ts';

const T0 = Date.UTC(2026, 10, 20, 9);
const WORKFLOW: WorkflowDefinition = {
  name: 'plan-upgrade',
  owner: 'billing-platform',
  trigger: { source: 'crm', type: 'subscription.upgraded' },
  steps: [{ name: 'invoice-updated', source: 'billing', type: 'invoice.updated', required: true, failOn: [] }],
  compensation: [],
  deadline: 300_000,
};
const OPTIONS = { dedupeWindow: 600_000, dedupeMaxKeys: 1000, holdUnmatchedFor: 600_000, allowedLateness: 0, idleAdvanceAfter: 30_000, closedRunRetention: 600_000, closedRunMemory: 1000, sweepEvery: 0 };

function ev(source: string, type: string, id: string, at: number, correlationId: string): WorkflowEvent {
  return { source, id, type, time: T0 + at, correlationId, origin: { topic: source, partition: 0, offset: '0' } };
}

/** Completed traces of n runs, two spans each. */
function traces(n: number): BusinessTrace[] {
  const s = new Stitcher([WORKFLOW], OPTIONS);
  for (let i = 0; i < n; i++) {
    s.apply(ev('crm', 'subscription.upgraded', `t-${i}`, 0, `c-${i}`), T0);
    s.apply(ev('billing', 'invoice.updated', `i-${i}`, 1000, `c-${i}`), T0);
  }
  return Array.from({ length: n }, (_, i) => businessTrace(s.run(`plan-upgrade:c-${i}`)!));
}

/** A backend that takes everything at once. */
class RecordingExporter implements SpanExporter {
  readonly spans: ReadableSpan[] = [];
  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    this.spans.push(...spans);
    done({ code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
}

/** An exporter that holds each batch until told how it went: a backend that is slow, or down. */
class HeldExporter implements SpanExporter {
  readonly batches: { spans: ReadableSpan[]; done: (r: ExportResult) => void }[] = [];
  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    this.batches.push({ spans, done });
  }
  async shutdown(): Promise<void> {}
}

function exporterWith(exporter: SpanExporter, maxQueueSpans = 10, maxBatchSpans = 4) {
  const registry = new Registry();
  const metrics = new TraceExportMetrics(registry);
  const sink = new BusinessTraceExporter({ exporter, builder: new BusinessSpanBuilder(), metrics, logger: silentLogger(), maxQueueSpans, maxBatchSpans, batchDelayMs: 60_000 });
  const value = async (name: string, labels: Record<string, string> = {}) =>
    (await registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
  return { sink, value };
}

describe('the business-trace exporter (telemetry/traces/exporter.ts)', () => {
  it('sends full batches at once, one export at a time, and the rest at shutdown', async () => {
    const memory = new RecordingExporter();
    const { sink, value } = exporterWith(memory, 100, 4);
    sink.start();
    sink.offer(traces(3));
    await new Promise((r) => setImmediate(r));
    expect(memory.spans).toHaveLength(4);
    await sink.shutdown();
    expect(memory.spans).toHaveLength(6);
    expect(await value('seamwatch_business_trace_spans_exported_total')).toBe(6);
    expect(await value('seamwatch_business_traces_total')).toBe(3);
  });

  it('drops whole traces with a count when the backend holds the queue full, and never waits', async () => {
    const held = new HeldExporter();
    const { sink, value } = exporterWith(held, 10, 4);
    sink.offer(traces(2)); // 4 spans: a full batch goes out and hangs there
    expect(held.batches).toHaveLength(1);
    sink.offer(traces(6)); // 12 more spans: room for 10 in the queue, so 5 traces fit, 1 is dropped
    expect(sink.queuedSpans).toBe(10);
    expect(await value('seamwatch_business_trace_spans_dropped_total', { reason: 'queue_full' })).toBe(2);
    held.batches[0]!.done({ code: ExportResultCode.FAILED, error: new Error('503') });
    await new Promise((r) => setImmediate(r));
    expect(await value('seamwatch_business_trace_spans_dropped_total', { reason: 'export_failed' })).toBe(4);
    // The next full batch went out as soon as the failed one settled.
    expect(held.batches).toHaveLength(2);
    held.batches[1]!.done({ code: ExportResultCode.SUCCESS });
    await new Promise((r) => setImmediate(r));
    expect(await value('seamwatch_business_trace_spans_exported_total')).toBe(4);
  });

  it('counts what is left at the shutdown deadline, and drops traces offered after it', async () => {
    const held = new HeldExporter();
    const { sink, value } = exporterWith(held, 100, 50);
    sink.offer(traces(3));
    await sink.shutdown(50);
    expect(await value('seamwatch_business_trace_spans_dropped_total', { reason: 'shutdown' })).toBe(0);
    expect(held.batches).toHaveLength(1); // sent, never answered: the exporter's own timeout owns it
    sink.offer(traces(1));
    expect(await value('seamwatch_business_trace_spans_dropped_total', { reason: 'shutdown' })).toBe(2);
    await sink.shutdown(); // twice is fine
  });
});

describe('the trace export stage (pipeline/stages/trace-stage.ts)', () => {
  it.each([
    ['completed', false, true],
    ['failed', false, true],
    ['compensated', false, true],
    ['deadline_missed', true, true],
    ['deadline_missed', false, false],
    ['open', true, false],
  ] as const)('a run %s (exportOpen %s) is exported: %s', (state, exportOpen, expected) => {
    expect(exportable({ state }, exportOpen)).toBe(expected);
  });

  it('hands a run to the sink once the flush is stored, and not again while it is unchanged', async () => {
    const s = new Stitcher([WORKFLOW], OPTIONS);
    const offered: BusinessTrace[] = [];
    const stage = new TraceExportStage({ sink: { offer: (t) => offered.push(...t) }, runOf: (id) => s.run(id), exportOpen: true, logger: silentLogger() });
    const flushOf = () => {
      const flush = new Flush(T0, [], []);
      flush.batch.runs.push(...s.drain(T0).runs);
      return flush;
    };
    s.apply(ev('crm', 'subscription.upgraded', 't', 0, 'c'), T0);
    let flush = flushOf();
    stage.collect(flush);
    await stage.deliver(flush);
    expect(offered).toHaveLength(0); // open
    s.apply(ev('billing', 'invoice.updated', 'i', 1000, 'c'), T0);
    flush = flushOf();
    stage.collect(flush);
    expect(offered).toHaveLength(0); // not before the store has it
    await stage.deliver(flush);
    expect(offered.map((t) => [t.run.correlationId, t.run.state])).toEqual([['c', 'completed']]);
    // The same run handed out again unchanged (its SLO verdicts came due) is not exported again.
    flush = new Flush(T0, [], []);
    flush.batch.runs.push(offered[0]!.run);
    stage.collect(flush);
    await stage.deliver(flush);
    expect(offered).toHaveLength(1);
  });

  it('exports a run again when a redelivery reaches it after its verdict, under the same trace', async () => {
    const s = new Stitcher([WORKFLOW], OPTIONS);
    const offered: BusinessTrace[] = [];
    const stage = new TraceExportStage({ sink: { offer: (t) => offered.push(...t) }, runOf: (id) => s.run(id), redelivered: () => s.takeRedelivered(), exportOpen: true, logger: silentLogger() });
    const cycle = async () => {
      const flush = new Flush(T0, [], []);
      flush.batch.runs.push(...s.drain(T0).runs);
      stage.collect(flush);
      await stage.deliver(flush);
    };
    s.apply(ev('crm', 'subscription.upgraded', 't', 0, 'c'), T0);
    s.apply(ev('billing', 'invoice.updated', 'i', 1000, 'c'), T0);
    await cycle();
    expect(s.apply(ev('billing', 'invoice.updated', 'i', 1000, 'c'), T0 + 5000)).toBe(false);
    await cycle();
    expect(offered.map((t) => t.steps[0]!.redeliveries.length)).toEqual([0, 1]);
    await cycle();
    expect(offered).toHaveLength(2);
  });

  it('exports a run again when a flush failed before the store took it', async () => {
    const s = new Stitcher([WORKFLOW], OPTIONS);
    const offered: BusinessTrace[] = [];
    const stage = new TraceExportStage({ sink: { offer: (t) => offered.push(...t) }, runOf: (id) => s.run(id), exportOpen: true, logger: silentLogger() });
    s.apply(ev('crm', 'subscription.upgraded', 't', 0, 'c'), T0);
    s.apply(ev('billing', 'invoice.updated', 'i', 1000, 'c'), T0);
    const failed = new Flush(T0, [], []);
    failed.batch.runs.push(...s.drain(T0).runs);
    stage.collect(failed); // the store stage throws: deliver never comes
    const next = new Flush(T0, [], []);
    next.carry(failed.batch);
    stage.collect(next);
    await stage.deliver(next);
    expect(offered).toHaveLength(1);
  });
});

describe('the telemetry: section', () => {
  const base = `sources: [{ name: crm }]\nkafka: { brokers: [k:9092] }\nstore: { clickhouse: { url: "http://ch:8123", database: d } }\n`;
  it('is off by default, and a bare collector address gets the traces path', () => {
    expect(parseConfigText(base, 't').telemetry.traces).toBeUndefined();
    const config = parseConfigText(`${base}telemetry: { traces: { endpoint: "http://collector:4318" } }`, 't');
    expect(config.telemetry.traces).toMatchObject({ endpoint: 'http://collector:4318/v1/traces', protocol: 'http/protobuf', exportOpen: true, maxQueueSpans: 20_000, batchDelay: 2_000 });
  });

  it('points a bare Zipkin address at its v2 spans API', () => {
    const config = parseConfigText(`${base}telemetry: { traces: { endpoint: "http://zipkin:9411", protocol: zipkin } }`, 't');
    expect(config.telemetry.traces?.endpoint).toBe('http://zipkin:9411/api/v2/spans');
  });

  it('refuses a bad endpoint and a batch larger than the queue, with the key path', () => {
    expect(() => parseConfigText(`${base}telemetry: { traces: { endpoint: "collector:4318", maxQueueSpans: 10, maxBatchSpans: 20 } }`, 't')).toThrow(
      /telemetry\.traces\.endpoint: must be an http\(s\) URL/,
    );
    expect(() => parseConfigText(`${base}telemetry: { traces: { endpoint: "http://c:4318", maxQueueSpans: 10, maxBatchSpans: 20 } }`, 't')).toThrow(
      /telemetry\.traces\.maxBatchSpans: must not be more than maxQueueSpans \(10\)/,
    );
  });
});
