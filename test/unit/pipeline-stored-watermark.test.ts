import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { sourceSchema } from '../../src/collectors/config.ts';
import type { Store, StoreBatch } from '../../src/domain/store.ts';
import { pipelineSchema } from '../../src/pipeline/config.ts';
import { IngestPipeline } from '../../src/pipeline/pipeline.ts';
import type { Stage } from '../../src/pipeline/stage.ts';
import { PipelineMetrics } from '../../src/telemetry/pipeline-metrics.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

const NOW = Date.UTC(2026, 10, 30, 9);
const M = 60_000;

const message = (offset: number, time: number) => ({
  value: Buffer.from(JSON.stringify({ specversion: '1.0', id: `e-${offset}`, source: 'crm', type: 'note.added', time: new Date(time).toISOString(), correlationid: `c-${offset}` })),
  headers: {},
  key: `c-${offset}`,
  timestamp: NOW,
  origin: { topic: 'crm.events', partition: 0, offset: String(offset) },
});

describe('IngestPipeline: where its verdicts are stored up to', () => {
  it('tells the group the watermark its last stored flush was judged at, also when a partition taken over holds it lower than before', async () => {
    const pipeline = new IngestPipeline({
      sources: [sourceSchema.parse({ name: 'crm', topic: 'crm.events' })],
      workflows: [],
      slos: [],
      pipeline: pipelineSchema.parse({}),
      store: { write: async (_batch: StoreBatch) => undefined, recover: async () => ({ events: [], runs: [], maxEventTime: null }) } as unknown as Store,
      deadLetterSink: { send: async () => undefined },
      commit: async () => undefined,
      metrics: new PipelineMetrics(new Registry(), ['crm']),
      logger: silentLogger(),
      now: () => NOW,
    });
    // Partition 0 is rebuilt, but the watermark speaks for it only once a flush begun after that is stored.
    await pipeline.recover([{ topic: 'crm.events', partition: 0, committed: '-1', low: '0', high: '0' }]);
    expect(pipeline.storedSinceRebuilt(0)).toBe(false);
    pipeline.process(message(0, NOW - 10 * M));
    await pipeline.flush();
    expect(pipeline.storedSinceRebuilt(0)).toBe(true);
    // A partition this instance never rebuilt is not one it speaks for.
    expect(pipeline.storedSinceRebuilt(1)).toBe(false);
    const first = pipeline.storedWatermark;
    expect(Number.isFinite(first)).toBe(true);
    expect(pipeline.lastStoredWatermark).toBe(first);
    // The next flush is judged lower: a partition handed over with a backlog holds the
    // instance-wide watermark at where its stored events reach (stitch/watermark.ts, `low`).
    const joined: Stage = {
      name: 'joined',
      collect(flush) {
        flush.watermark = first - 5 * M;
      },
    };
    (pipeline.stages as Stage[]).splice(1, 0, joined);
    pipeline.process(message(1, NOW - 9 * M));
    await pipeline.flush();
    expect(pipeline.storedWatermark).toBe(first);
    expect(pipeline.lastStoredWatermark).toBe(first - 5 * M);
    // Handed over: no longer one it speaks for.
    pipeline.retainPartitions({ 'crm.events': [] });
    expect(pipeline.storedSinceRebuilt(0)).toBe(false);
  });

  it('does not speak for a partition from a flush begun before its rebuild, though stored after it', async () => {
    let release!: () => void;
    let writes = 0;
    const pipeline = new IngestPipeline({
      sources: [sourceSchema.parse({ name: 'crm', topic: 'crm.events' })],
      workflows: [],
      slos: [],
      pipeline: pipelineSchema.parse({}),
      store: {
        // The first write hangs until released: a flush in flight while the partition is rebuilt.
        write: (_batch: StoreBatch) => (writes++ === 0 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve()),
        recover: async () => ({ events: [], runs: [], maxEventTime: null }),
      } as unknown as Store,
      deadLetterSink: { send: async () => undefined },
      commit: async () => undefined,
      metrics: new PipelineMetrics(new Registry(), ['crm']),
      logger: silentLogger(),
      now: () => NOW,
    });
    pipeline.process(message(0, NOW - 10 * M));
    const inFlight = pipeline.flush();
    await pipeline.recover([{ topic: 'crm.events', partition: 0, committed: '-1', low: '0', high: '0' }]);
    release();
    await inFlight;
    expect(Number.isFinite(pipeline.lastStoredWatermark)).toBe(true);
    expect(pipeline.storedSinceRebuilt(0)).toBe(false);
    pipeline.process(message(1, NOW - 9 * M));
    await pipeline.flush();
    expect(pipeline.storedSinceRebuilt(0)).toBe(true);
  });
});
