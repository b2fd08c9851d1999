import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { checkContract, type EventContract } from '../../src/collectors/decode/contract.ts';
import type { DecodeResult, RawMessage } from '../../src/collectors/decode/message.ts';
import type { WorkflowEvent } from '../../src/domain/event.ts';
import type { Store, StoreBatch } from '../../src/domain/store.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { IngestPipeline } from '../../src/pipeline/pipeline.ts';
import { PipelineMetrics } from '../../src/telemetry/pipeline-metrics.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

const SEC = 1_000;
const MIN = 60 * SEC;
const YEAR = 365 * 86_400_000;
/** The wall clock in every case. */
const NOW = Date.UTC(2026, 10, 29, 14, 0);
const CONTRACT: EventContract = { source: 'crm', maxFieldLength: 256, maxTimeAhead: 5 * MIN };

const event = (overrides: Partial<WorkflowEvent> = {}): WorkflowEvent => ({
  source: 'crm',
  id: 'evt-1',
  type: 'subscription.upgraded',
  time: NOW - MIN,
  correlationId: 'corr-1',
  origin: { topic: 'crm.events', partition: 0, offset: '7' },
  ...overrides,
});
const ok = (e: WorkflowEvent): DecodeResult => ({ ok: true, event: e });

describe('checkContract', () => {
  it('passes an event that keeps the contract as it is', () => {
    const result = ok(event());
    expect(checkContract(result, CONTRACT, NOW)).toBe(result);
  });

  it('passes a failed decode through unchanged', () => {
    const failed: DecodeResult = { ok: false, reason: 'not-json', detail: 'Unexpected token' };
    expect(checkContract(failed, CONTRACT, NOW)).toBe(failed);
  });

  it.each([
    ['exactly maxTimeAhead ahead of the wall clock is accepted', NOW + 5 * MIN, true],
    ['a clock a little behind the producer is accepted', NOW + 4 * MIN, true],
    ['an hour old is accepted (late is not the contract\'s business)', NOW - 60 * MIN, true],
    ['a millisecond past maxTimeAhead is refused', NOW + 5 * MIN + 1, false],
    ['three years ahead is refused', NOW + 3 * YEAR, false],
    ['a unix-ms value read as seconds is refused', NOW * 1000, false],
  ])('event time: %s', (_name, time, accepted) => {
    const result = checkContract(ok(event({ time })), CONTRACT, NOW);
    expect(result.ok).toBe(accepted);
    if (!result.ok) expect(result.reason).toBe('time-in-future');
  });

  it('says how far ahead the time is and what is allowed', () => {
    const result = checkContract(ok(event({ time: NOW + 3 * YEAR })), CONTRACT, NOW);
    expect(result).toEqual({ ok: false, reason: 'time-in-future', detail: 'time 2029-11-28T14:00:00.000Z is 1095d ahead of the wall clock (at most 5m)' });
  });

  it('describes a time past what a date can print by its number', () => {
    const result = checkContract(ok(event({ time: NOW * 10_000 })), CONTRACT, NOW);
    expect(!result.ok && result.detail).toMatch(/^time 17\d+ ms since the epoch is \d+d ahead/);
  });

  it.each([
    ['correlationid', { correlationId: 'c'.repeat(257) }],
    ['id', { id: 'i'.repeat(5_000) }],
    ['source', { source: 's'.repeat(300) }],
    ['type', { type: 't'.repeat(1_000_000) }],
  ] as const)('a "%s" longer than maxFieldLength is refused, named with its length, never quoted', (name, overrides) => {
    const value = Object.values(overrides)[0]!;
    const result = checkContract(ok(event(overrides)), CONTRACT, NOW);
    expect(result).toEqual({ ok: false, reason: 'field-too-long', detail: `"${name}" is ${value.length} characters long (at most 256)` });
  });

  it('accepts fields of exactly maxFieldLength', () => {
    const result = checkContract(ok(event({ correlationId: 'c'.repeat(256), id: 'i'.repeat(256), type: 't'.repeat(256) })), CONTRACT, NOW);
    expect(result.ok).toBe(true);
  });

  it('refuses an event whose source is not the one configured for its topic', () => {
    const result = checkContract(ok(event({ source: 'billing' })), CONTRACT, NOW);
    expect(result).toEqual({ ok: false, reason: 'source-mismatch', detail: 'source "billing" on the topic of source "crm": a source speaks only on its own topic' });
  });

  it('quotes at most the start of a foreign source in the detail', () => {
    const result = checkContract(ok(event({ source: 'x'.repeat(200) })), CONTRACT, NOW);
    expect(!result.ok && result.detail.length).toBeLessThan(160);
  });

  it('checks lengths before anything that quotes a value', () => {
    const result = checkContract(ok(event({ source: 'x'.repeat(10_000), time: NOW + YEAR })), CONTRACT, NOW);
    expect(!result.ok && result.reason).toBe('field-too-long');
  });
});

/** A store that keeps what it is given; the pipeline needs nothing else of it here. */
function memoryStore(maxEventTime: number | null = null): Store & { batches: StoreBatch[] } {
  const batches: StoreBatch[] = [];
  return {
    batches,
    write: async (batch: StoreBatch) => void batches.push(structuredClone(batch)),
    recover: async () => ({ events: [], runs: [], maxEventTime }),
    eventsOfTypes: async () => [],
  } as unknown as Store & { batches: StoreBatch[] };
}

const CONFIG = parseConfigText(
  `
sources:
  - { name: crm, topic: crm.events }
  - { name: ticketing, topic: ticketing.events }
workflows:
  - name: plan-upgrade
    owner: billing-platform
    trigger: { source: crm, type: subscription.upgraded }
    steps:
      - { name: ticket-tagged, source: ticketing, type: ticket.tagged }
    deadline: 5m
kafka: { brokers: ['127.0.0.1:9'] }
store: { clickhouse: { url: 'http://127.0.0.1:9', database: unused } }
`,
  'test',
);

function pipeline(now: () => number, storedMaxEventTime: number | null = null) {
  const registry = new Registry();
  const store = memoryStore(storedMaxEventTime);
  const sent: unknown[] = [];
  const ingest = new IngestPipeline({
    sources: CONFIG.sources,
    workflows: CONFIG.workflows,
    slos: [],
    pipeline: CONFIG.pipeline,
    store,
    deadLetterSink: { send: async (letters) => void sent.push(...letters) },
    commit: async () => undefined,
    metrics: new PipelineMetrics(registry, ['crm', 'ticketing']),
    logger: silentLogger(),
    now,
  });
  return { ingest, store, registry };
}

let offset = 0;
function cloudEvent(topic: string, attributes: Record<string, unknown>): RawMessage {
  return {
    value: Buffer.from(JSON.stringify({ specversion: '1.0', ...attributes })),
    headers: {},
    key: String(attributes['correlationid']),
    timestamp: NOW,
    origin: { topic, partition: 0, offset: String(offset++) },
  };
}

const at = (ms: number) => new Date(ms).toISOString();

describe('IngestPipeline: the event contract', () => {
  it('an event stamped three years ahead is dead-lettered as time-in-future and leaves the watermark and open runs alone', async () => {
    const { ingest, store, registry } = pipeline(() => NOW);
    ingest.process(cloudEvent('crm.events', { id: 'up-1', source: 'crm', type: 'subscription.upgraded', correlationid: 'c-1', time: at(NOW - MIN) }));
    ingest.process(cloudEvent('crm.events', { id: 'x-1', source: 'crm', type: 'lead.created', correlationid: 'c-x', time: at(NOW + 3 * YEAR) }));
    expect(ingest.stitcher.watermarkAt(NOW)).toBe(NOW - MIN);
    await ingest.flush();
    const [batch] = store.batches;
    expect(batch!.deadLetters.map((d) => [d.reason, d.origin.offset])).toEqual([['time-in-future', String(offset - 1)]]);
    expect(batch!.events.map((e) => e.id)).toEqual(['up-1']);
    expect(batch!.runs.map((r) => [r.runId, r.state, r.deadlineMissed])).toEqual([['plan-upgrade:c-1', 'open', false]]);
    expect(await registry.getSingleMetricAsString('seamwatch_dead_letters_total')).toContain('seamwatch_dead_letters_total{topic="crm.events",reason="time-in-future"} 1');
  });

  it('a crm event on the ticketing topic is dead-lettered as source-mismatch, not stitched', async () => {
    const { ingest, store } = pipeline(() => NOW);
    ingest.process(cloudEvent('ticketing.events', { id: 'up-2', source: 'crm', type: 'subscription.upgraded', correlationid: 'c-2', time: at(NOW - MIN) }));
    await ingest.flush();
    const [batch] = store.batches;
    expect(batch!.deadLetters.map((d) => [d.reason, d.origin.topic])).toEqual([['source-mismatch', 'ticketing.events']]);
    expect(batch!.runs).toEqual([]);
    expect(batch!.events).toEqual([]);
  });

  it('a correlation ID of 100 kB is dead-lettered as field-too-long and the detail does not carry it', async () => {
    const { ingest, store } = pipeline(() => NOW);
    const huge = 'c'.repeat(100_000);
    ingest.process(cloudEvent('crm.events', { id: 'up-3', source: 'crm', type: 'subscription.upgraded', correlationid: huge, time: at(NOW - MIN) }));
    await ingest.flush();
    const [letter] = store.batches[0]!.deadLetters;
    expect(letter!.reason).toBe('field-too-long');
    expect(letter!.detail).toBe('"correlationid" is 100000 characters long (at most 256)');
    expect(store.batches[0]!.runs).toEqual([]);
  });
});

describe('IngestPipeline: gauges', () => {
  it('exports the watermark lag and the stitcher totals, untouched by an event from the future', async () => {
    const { ingest, registry } = pipeline(() => NOW);
    ingest.process(cloudEvent('crm.events', { id: 'up-9', source: 'crm', type: 'subscription.upgraded', correlationid: 'c-9', time: at(NOW - MIN) }));
    ingest.process(cloudEvent('crm.events', { id: 'lead-9', source: 'crm', type: 'lead.created', correlationid: 'c-9', time: at(NOW - MIN) }));
    ingest.process(cloudEvent('crm.events', { id: 'x-9', source: 'crm', type: 'lead.created', correlationid: 'c-x', time: at(NOW + 3 * YEAR) }));
    ingest.updateGauges();
    expect(await registry.getSingleMetricAsString('seamwatch_watermark_lag_seconds')).toContain('seamwatch_watermark_lag_seconds 60');
    expect(await registry.getSingleMetricAsString('seamwatch_stitch_events_total')).toContain('seamwatch_stitch_events_total{outcome="unmatched"} 1');
    expect(await registry.getSingleMetricAsString('seamwatch_runs_total')).toContain('seamwatch_runs_total{change="started"} 1');
  });
});

describe('IngestPipeline: recovery', () => {
  it('does not seed event time from a future event the store already holds (written before such events were refused)', async () => {
    const { ingest } = pipeline(() => NOW, NOW + 3 * YEAR);
    await ingest.recover([{ topic: 'crm.events', partition: 0, committed: '5', low: '0', high: '5' }]);
    expect(ingest.stitcher.watermarkAt(NOW)).toBe(NOW);
  });
});
