import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import type { RunRecord } from '../../src/domain/records.ts';
import type { DeadLetter } from '../../src/domain/dead-letter.ts';
import { requireServices, store as serverStore, unique } from '../support/services.ts';
import { CLUSTER_NAME, ENTRY_URL, clusterScript } from '../support/cluster.ts';

/**
 * The store's replacing reads on the cluster, for the tables that are not sharded by
 * correlation ID (alert rows, state documents, claims, dead letters, SLO minutes and
 * definitions): each key's versions sit on one shard, so FINAL and LIMIT 1 BY keep the newest
 * once. Every case runs on the cluster and on the single server, with the same expectations.
 */
const TARGETS = ['cluster', 'single server'] as const;

describe.each(TARGETS)('replacing reads through the store on the %s', (target) => {
  const database = unique('cls');
  let ch: ClickHouseStore;

  beforeAll(async () => {
    await requireServices();
    if (target === 'cluster') {
      await clusterScript('start');
      ch = new ClickHouseStore({ url: ENTRY_URL, database, username: 'default', password: '', requestTimeout: 30_000, cluster: CLUSTER_NAME, logger: silentLogger() });
    } else {
      ch = serverStore(database);
    }
    await ch.start();
  });

  afterAll(async () => {
    await ch?.command(`DROP DATABASE IF EXISTS ${database}${target === 'cluster' ? ` ON CLUSTER ${CLUSTER_NAME}` : ''}`).catch(() => undefined);
    await ch?.shutdown();
  });

  it('keeps alert changes and notifications once each, however often a replay writes them', async () => {
    const changes = Array.from({ length: 40 }, (_, i) => ({
      fingerprint: `f${i}`, kind: 'firing' as const, detector: 'dup', detectorKind: 'duplicateEffects', team: 'billing', severity: 'critical',
      workflow: 'w', summary: 'two invoices', correlationId: `c${i}`, startsAt: 1_795_165_200_000 + i, endsAt: 0, recordedAt: 1_795_165_201_000,
    }));
    const notifications = changes.map((c) => ({ receiver: 'pd', groupKey: '{}', fingerprint: c.fingerprint, state: 'firing' as const, sentAt: 1_795_165_202_000 }));
    await ch.writeAlertRecords({ changes, notifications });
    await ch.writeAlertRecords({ changes: changes.map((c) => ({ ...c, recordedAt: c.recordedAt + 5 })), notifications });
    const [row] = await ch.rows<{ n: string; recorded: string }>(`SELECT count() AS n, max(recorded_at_ms) AS recorded FROM ${database}.alert_changes FINAL`);
    expect(row).toEqual({ n: '40', recorded: '1795165201005' });
    expect(await ch.rows(`SELECT count() AS n FROM ${database}.notifications FINAL`)).toEqual([{ n: '40' }]);
  });

  it('loads the newest version of every state document', async () => {
    for (let v = 1; v <= 3; v++) await ch.saveDocuments(Array.from({ length: 30 }, (_, i) => ({ key: `alerts/p${i}`, doc: `v${v}` })));
    const docs = await ch.documentsWithPrefix('alerts/');
    expect(docs.size).toBe(30);
    expect(new Set(docs.values())).toEqual(new Set(['v3']));
    expect(await ch.loadDocuments(['alerts/p7', 'alerts/none'])).toEqual(new Map([['alerts/p7', 'v3']]));
  });

  it('reads report claims and dead letters once each, replays included', async () => {
    const claims = Array.from({ length: 20 }, (_, i) => ({ key: 'week-2026-47', round: i, instance: `i${i % 3}`, state: 'claimed' as const, at: 1_795_165_200_000 }));
    await ch.addReportClaims(claims);
    await ch.addReportClaims(claims);
    expect((await ch.reportClaims('week-2026-47')).sort((a, b) => a.round - b.round)).toEqual(claims);
    const letter = (offset: number): DeadLetter => ({
      reason: 'not-json', detail: 'x', origin: { topic: 'crm', partition: offset % 4, offset: String(offset) }, raw: Buffer.from('{'), headers: {}, key: null, at: 1_795_165_200_000,
    });
    const letters = Array.from({ length: 25 }, (_, i) => letter(i));
    const batch = { events: [], runs: [], spans: [], sloOutcomes: [], deadLetters: letters };
    await ch.write(batch);
    await ch.write(batch);
    expect(await ch.deadLetterCounts(['crm'], { from: 1_795_165_000_000, to: 1_795_166_000_000 })).toEqual([{ topic: 'crm', reason: 'not-json', count: 25 }]);
  });

  it('keeps the newest version of each of many runs, spread over the shards', async () => {
    const run = (i: number, version: number, state: RunRecord['state']): RunRecord => ({
      runId: `plan-upgrade:k${i}`, workflow: 'plan-upgrade', owner: 'billing', correlationId: `k${i}`, partition: i % 4, state,
      startedAt: Date.UTC(2026, 10, 1), deadlineAt: Date.UTC(2026, 10, 1) + 300_000, completedAt: 0, deadlineMissed: false,
      missingSteps: [], failedSteps: [], eventCount: 1, lastEventAt: Date.UTC(2026, 10, 1), version,
    });
    const write = (runs: RunRecord[]) => ch.write({ events: [], spans: [], deadLetters: [], sloOutcomes: [], runs });
    const ids = Array.from({ length: 200 }, (_, i) => i);
    await write(ids.map((i) => run(i, 2, 'completed')));
    await write(ids.map((i) => run(i, 1, 'open')));
    const [row] = await ch.rows<{ n: string; completed: string }>(`SELECT count() AS n, countIf(state = 'completed') AS completed FROM ${database}.runs FINAL`);
    expect(row).toEqual({ n: '200', completed: '200' });
    expect(await ch.workflowRuns(['plan-upgrade'], { from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 10, 2) })).toMatchObject([{ runs: 200, completed: 200, open: 0 }]);
  });

  it('counts SLO outcomes of many runs per minute exactly, a moved due time and a stale redelivery included', async () => {
    const slo = 'many';
    const m0 = Math.floor(Date.UTC(2026, 10, 30, 23, 50) / 60_000);
    const outcome = (run: number, minute: number, good: boolean, version: number) => ({
      slo, workflow: 'plan-upgrade', runId: `plan-upgrade:s${run}`, correlationId: `s${run}`, due: minute * 60_000 + 500, good, version,
    });
    const write = (sloOutcomes: ReturnType<typeof outcome>[]) => ch.write({ events: [], runs: [], spans: [], deadLetters: [], sloOutcomes });
    const runs = Array.from({ length: 120 }, (_, i) => i);
    // 120 runs over 20 minutes across a month's end, one in three bad; then every run's due
    // time moves 3 minutes earlier and its verdict flips to good; then the first write again.
    await write(runs.map((i) => outcome(i, m0 + (i % 20), i % 3 !== 0, 1)));
    await write(runs.map((i) => outcome(i, m0 + (i % 20) - 3, true, 2)));
    await write(runs.map((i) => outcome(i, m0 + (i % 20), i % 3 !== 0, 1)));
    const range = { slo, fromMinute: m0 - 10, toMinute: m0 + 30 };
    expect(await ch.sloCounts([range])).toEqual(new Map([[slo, { good: 120, total: 120 }]]));
    const minutes = (await ch.sloMinutes([range])).get(slo)!;
    expect(minutes.map((m) => m.minute)).toEqual(Array.from({ length: 20 }, (_, i) => m0 - 3 + i));
    expect(minutes.every((m) => m.good === 6 && m.total === 6)).toBe(true);
  });

  it('reads the newest SLO definitions', async () => {
    const definition = { slo: 'd', workflow: 'w', owner: 'o', objective: 0.99, windowMs: 1, tierNames: ['page'], tierFactors: [14.4], tierLongMs: [3_600_000], tierShortMs: [300_000] };
    await ch.writeSloDefinitions([definition, { ...definition, slo: 'e' }]);
    await new Promise((r) => setTimeout(r, 5));
    await ch.writeSloDefinitions([{ ...definition, objective: 0.995 }]);
    expect(await ch.rows(`SELECT slo, objective FROM ${database}.slo_definitions FINAL ORDER BY slo`)).toEqual([
      { slo: 'd', objective: 0.995 },
      { slo: 'e', objective: 0.99 },
    ]);
  });
});
