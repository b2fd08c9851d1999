/**
 * Taking over partitions reads back what the store holds, and that read is bounded: a partition
 * with nothing committed does not load its whole history, the number of events read back has a
 * ceiling, and a store that cannot answer makes seamwatch stop with an error after the recovery
 * deadline instead of retrying forever behind a ready-looking process.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { WorkflowDefinition } from '../../src/domain/workflow.ts';
import type { WorkflowEvent } from '../../src/domain/event.ts';
import type { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { Stitcher } from '../../src/stitch/stitcher.ts';
import { ENGINES, ENGINE_NAMES, store, unique } from '../support/services.ts';
import { kafkaSuite } from '../support/suite.ts';
import { processHarness } from '../support/processes.ts';
import { SeamwatchProcess, freePort } from '../support/child.ts';

const MIN = 60_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 20, 12);
const TOPIC = 'bounded.events';

const UPGRADE: WorkflowDefinition = {
  name: 'plan-upgrade',
  owner: 'billing-platform',
  trigger: { source: 'crm', type: 'subscription.upgraded' },
  steps: [{ name: 'invoice-updated', source: 'crm', type: 'invoice.updated', required: true, failOn: [] }],
  compensation: [],
  deadline: 5 * MIN,
};

/** Stores runs as the pipeline would: `done` completed upgrades `daysAgo` back, then the open ones. */
async function storeRuns(ch: ClickHouseStore, runs: { prefix: string; count: number; at: number; complete: boolean }[]): Promise<void> {
  const stitcher = new Stitcher([UPGRADE], { dedupeWindow: MIN, dedupeMaxKeys: 1_000_000, holdUnmatchedFor: 60 * MIN, allowedLateness: 0, idleAdvanceAfter: MIN, closedRunRetention: MIN, closedRunMemory: 1_000_000 });
  let offset = 0;
  const event = (type: string, id: string, correlationId: string, time: number): WorkflowEvent => ({
    source: 'crm', id, type, time, correlationId, origin: { topic: TOPIC, partition: 0, offset: String(offset++) },
  });
  for (const { prefix, count, at, complete } of runs) {
    for (let i = 0; i < count; i++) {
      stitcher.apply(event('subscription.upgraded', `t-${prefix}-${i}`, `${prefix}-${i}`, at + i), NOW);
      if (complete) stitcher.apply(event('invoice.updated', `i-${prefix}-${i}`, `${prefix}-${i}`, at + i + 1_000), NOW);
    }
  }
  await ch.write({ ...stitcher.drain(NOW), deadLetters: [] });
}

describe.each(ENGINES.map((e) => [ENGINE_NAMES[e], e] as const))('recovery reads back a bounded amount, on %s', (_name, engine) => {
  const database = unique('rec');
  const ch = store(database, engine);

  afterAll(async () => {
    await ch.command(`DROP DATABASE IF EXISTS ${database}`);
    await ch.shutdown();
  });

  it('nothing committed (-1) reads back the runs within the horizon, not the partition\'s whole history', async () => {
    await ch.start();
    await storeRuns(ch, [
      { prefix: 'old', count: 2_500, at: NOW - 30 * DAY, complete: true },
      { prefix: 'recent-open', count: 5, at: NOW - 10 * MIN, complete: false },
      { prefix: 'recent-done', count: 5, at: NOW - 5 * MIN, complete: true },
    ]);
    const recovery = await ch.recover({ partitions: [0], runHorizon: 7 * DAY, holdHorizon: 60 * MIN, replayFrom: [{ topic: TOPIC, partition: 0, offset: '-1' }] });
    const ids = new Set(recovery.events.map((e) => e.correlationId));
    expect([...ids].filter((id) => id.startsWith('old-'))).toEqual([]);
    expect(recovery.events).toHaveLength(5 + 2 * 5);
    // With an offset committed, what is at or past it is read back, however old.
    const replay = await ch.recover({ partitions: [0], runHorizon: 7 * DAY, holdHorizon: 60 * MIN, replayFrom: [{ topic: TOPIC, partition: 0, offset: '4998' }] });
    expect(new Set(replay.events.map((e) => e.correlationId)).has('old-2499')).toBe(true);
  });

  it('reading stops at maxEvents, unfinished runs first, and says how many correlation IDs were left out', async () => {
    const recovery = await ch.recover({ partitions: [0], runHorizon: 60 * DAY, holdHorizon: 60 * MIN, replayFrom: [{ topic: TOPIC, partition: 0, offset: '0' }], maxEvents: 1 });
    // One slice of IDs at most: the unfinished runs come first in it.
    const ids = new Set(recovery.events.map((e) => e.correlationId));
    for (let i = 0; i < 5; i++) expect(ids.has(`recent-open-${i}`)).toBe(true);
    expect(ids.size + (recovery.leftOut ?? 0)).toBe(2_510);
    expect(ids.size).toBeLessThan(2_510);
  });
});

describe('a store that cannot be read when partitions are taken over', () => {
  const suite = kafkaSuite();
  const processes: SeamwatchProcess[] = [];
  afterEach(async () => {
    for (const p of processes.splice(0)) await p.kill();
  });

  it('stops seamwatch with an error after pipeline.recoveryDeadline, instead of retrying forever', async () => {
    const harness = await processHarness(suite.admin, 'recdl', { pipeline: '{ flushInterval: 200ms, idleAdvanceAfter: 2s, recoveryDeadline: 3s }' });
    suite.cleanups.push(harness.cleanup);
    // The schema is in place, but the table recovery reads is gone: every attempt fails.
    await harness.ch.start();
    await storeRuns(harness.ch, [{ prefix: 'open', count: 1, at: NOW, complete: false }]);
    await harness.ch.command(`DROP TABLE ${harness.id}.runs`);
    const p = new SeamwatchProcess(harness.configFile, await freePort());
    processes.push(p);
    const code = await new Promise<number | null>((resolve) => p.child.once('exit', (c) => resolve(c)));
    if (code !== 1) console.log(p.output);
    expect(code).toBe(1);
    expect(p.output).toContain('giving up rebuilding partitions from the store');
    expect(p.output).toContain('pipeline.recoveryDeadline');
  }, 90_000);
});
