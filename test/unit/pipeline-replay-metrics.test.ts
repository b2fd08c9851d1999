import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { sourceSchema } from '../../src/collectors/config.ts';
import type { Recovery, Store, StoreBatch } from '../../src/domain/store.ts';
import type { WorkflowEvent } from '../../src/domain/event.ts';
import { pipelineSchema } from '../../src/pipeline/config.ts';
import { IngestPipeline } from '../../src/pipeline/pipeline.ts';
import { PipelineMetrics } from '../../src/telemetry/pipeline-metrics.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

const NOW = Date.UTC(2026, 10, 20, 9);
const TOPIC = 'crm.events';
/** Older than the dedupe window (10m) behind where stored event time had reached: the dedupe has forgotten them. */
const OLD = NOW - 30 * 60_000;

const body = (offset: number) => ({ specversion: '1.0', id: `e-${offset}`, source: 'crm', type: 'note.added', time: new Date(OLD + offset).toISOString(), correlationid: `c-${offset}` });
const message = (offset: number) => ({ value: Buffer.from(JSON.stringify(body(offset))), headers: {}, key: `c-${offset}`, timestamp: NOW, origin: { topic: TOPIC, partition: 0, offset: String(offset) } });
const stored = (offset: number): WorkflowEvent =>
  ({ source: 'crm', id: `e-${offset}`, type: 'note.added', time: OLD + offset, correlationId: `c-${offset}`, origin: { topic: TOPIC, partition: 0, offset: String(offset) } }) as WorkflowEvent;

/** A store that already holds offsets 0–2 (stored by a flush whose commit never happened). */
function storeHolding(offsets: number[]): Store {
  const recovery: Recovery = { events: offsets.map(stored), runs: [], maxEventTime: NOW };
  return { write: async (_batch: StoreBatch) => undefined, recover: async () => recovery, eventsOfTypes: async () => [] } as unknown as Store;
}

async function counted(registry: Registry, name: string): Promise<number> {
  return (await registry.getSingleMetric(name)!.get()).values.reduce((n, v) => n + v.value, 0);
}

describe('/metrics after a restart: a replay is not new traffic', () => {
  it.each([
    ['the dedupe has forgotten them (a busy instance)', { dedupeMaxKeys: 1 }],
    ['the dedupe still knows them (not a producer redelivery either)', {}],
  ])('events stored before the restart and read again count as replayed, not received: %s', async (_name, pipelineConfig) => {
    const registry = new Registry();
    const pipeline = new IngestPipeline({
      sources: [sourceSchema.parse({ name: 'crm', topic: TOPIC })],
      workflows: [],
      slos: [],
      pipeline: pipelineSchema.parse(pipelineConfig),
      store: storeHolding([0, 1, 2]),
      deadLetterSink: { send: async () => undefined },
      commit: async () => undefined,
      metrics: new PipelineMetrics(registry, ['crm']),
      logger: silentLogger(),
      now: () => NOW,
    });
    await pipeline.recover([{ topic: TOPIC, partition: 0, committed: '0', low: '0', high: '5' }]);
    for (const offset of [0, 1, 2, 3, 4]) pipeline.process(message(offset));
    await pipeline.flush();
    const received = await counted(registry, 'seamwatch_events_received_total');
    const replayed = (await registry.getSingleMetric('seamwatch_events_replayed_total')?.get())?.values.reduce((n, v) => n + v.value, 0);
    const duplicates = await counted(registry, 'seamwatch_events_duplicate_total');
    expect({ received, replayed, duplicates }).toEqual({ received: 2, replayed: 3, duplicates: 0 });
  });
});
