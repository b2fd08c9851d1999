import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { sourceSchema } from '../../src/collectors/config.ts';
import type { TopicPartitionOffset } from '../../src/collectors/intake.ts';
import type { Store, StoreBatch } from '../../src/domain/store.ts';
import { pipelineSchema } from '../../src/pipeline/config.ts';
import { IngestPipeline } from '../../src/pipeline/pipeline.ts';
import type { Stage } from '../../src/pipeline/stage.ts';
import { PipelineMetrics } from '../../src/telemetry/pipeline-metrics.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

const NOW = Date.UTC(2026, 10, 20, 9);

/** Writes batches to memory; the ClickHouse store itself is tested against the real server. */
function memoryStore(written: StoreBatch[]): Store {
  return { write: async (batch: StoreBatch) => void written.push(batch) } as unknown as Store;
}

const message = (offset: number) => ({
  value: Buffer.from(JSON.stringify({ specversion: '1.0', id: `e-${offset}`, source: 'crm', type: 'note.added', time: new Date(NOW - 60_000 + offset).toISOString(), correlationid: `c-${offset}` })),
  headers: {},
  key: `c-${offset}`,
  timestamp: NOW,
  origin: { topic: 'crm.events', partition: 0, offset: String(offset) },
});

describe('IngestPipeline when a flush fails before its commit', () => {
  it('writes the failed flush\'s rows with the next one before it commits any offset past them', async () => {
    const written: StoreBatch[] = [];
    const commits: TopicPartitionOffset[][] = [];
    const pipeline = new IngestPipeline({
      sources: [sourceSchema.parse({ name: 'crm', topic: 'crm.events' })],
      workflows: [],
      slos: [],
      pipeline: pipelineSchema.parse({}),
      store: memoryStore(written),
      deadLetterSink: { send: async () => undefined },
      commit: async (offsets) => void commits.push([...offsets]),
      metrics: new PipelineMetrics(new Registry(), ['crm']),
      logger: silentLogger(),
      now: () => NOW,
    });
    // A stage that breaks once while the flush collects (a bug, say).
    let broken = true;
    const flaky: Stage = {
      name: 'flaky',
      collect() {
        if (broken) {
          broken = false;
          throw new Error('boom');
        }
      },
    };
    (pipeline.stages as Stage[]).splice(1, 0, flaky);

    for (const offset of [0, 1, 2]) pipeline.process(message(offset));
    await expect(pipeline.flush()).rejects.toThrow('boom');
    expect(commits).toEqual([]);
    expect(pipeline.bufferedRows).toBeGreaterThanOrEqual(3);

    for (const offset of [3, 4]) pipeline.process(message(offset));
    await pipeline.flush();
    expect(written.flatMap((b) => b.events.map((e) => e.id))).toEqual(['e-0', 'e-1', 'e-2', 'e-3', 'e-4']);
    expect(commits).toEqual([[{ topic: 'crm.events', partition: 0, offset: '5' }]]);
  });
});
