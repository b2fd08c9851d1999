import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Producer } from 'kafkajs';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { parseConfigText } from '../../src/config/load.ts';
import { Seamwatch } from '../../src/app.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import type { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { ALL_QUERIES } from '../../dashboards/src/queries.ts';
import { variableQueriesOf } from '../../dashboards/src/dashboards.ts';
import { expandPanelSql, type GrafanaRange } from '../support/grafana-clickhouse.ts';
import { upgradeSyncSloYaml } from '../support/slo-fixtures.ts';
import { buildScenario, produceAll, scenarioConfig, T0, type Scenario, type ScenarioTopics } from '../support/scenario.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, createTopics, groupLag, kafka, requireServices, store as serverStore, unique, waitFor } from '../support/services.ts';
import { CLUSTER_NAME, ENTRY_URL, RUN_TABLES, SHARDS, clusterScript, nodeClient, nodeRows, replicaDigest, type NodeName } from '../support/cluster.ts';

const H = 3_600_000;
const SLO = 'upgrade-sync-5m';


/**
 * A stream through seamwatch on the 2×2 cluster (store.clickhouse.cluster): the cluster must
 * hold each row of a run on both replicas of one shard and count the SLO exactly; copied to the
 * single 18.16 server, the same rows must give every answer seamwatch and Grafana read there.
 */
describe('seamwatch on a replicated, sharded ClickHouse 18.16 cluster', () => {
  const id = unique('clu');
  const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  const all = Object.values(topics);
  let admin: Admin;
  let producer: Producer;
  let onCluster: Seamwatch;
  let cluster: ClickHouseStore;
  let server: ClickHouseStore;
  let scenario: Scenario;
  const nodes = new Map<NodeName, ClickHouseClient>();

  beforeAll(async () => {
    await clusterScript('start');
    await requireServices();
    for (const shard of SHARDS) for (const node of shard) nodes.set(node, nodeClient(node));
    admin = kafka().admin();
    await admin.connect();
    await createTopics(admin, all);
    producer = kafka().producer();
    await producer.connect();
    const text = scenarioConfig(topics, {
      database: id,
      groupId: `${id}-group`,
      brokers: KAFKA_BROKERS,
      clickhouseUrl: CLICKHOUSE_URL,
      store: `{ clickhouse: { url: "${ENTRY_URL}", database: ${id}, cluster: ${CLUSTER_NAME} } }`,
      pipeline: '{ flushInterval: 200ms, idleAdvanceAfter: 2s, sloEvaluateEvery: 200ms }',
      slos: upgradeSyncSloYaml('99%'),
    });
    onCluster = new Seamwatch({ config: parseConfigText(text, 'test'), logger: silentLogger() });
    await onCluster.start();
    cluster = onCluster.store as ClickHouseStore;
    expect(cluster.cluster).toBe(CLUSTER_NAME);
    scenario = buildScenario(topics, 300, 80);
    await produceAll(producer, scenario.messages);
    await waitFor('the group to commit every message', async () => (await groupLag(admin, `${id}-group`, all)) === 0, 90_000);
    // Good: both billing steps within 5 minutes, i.e. completed without missing the deadline.
    const upgrades = [...scenario.expectedRuns].filter(([k]) => k.startsWith('plan-upgrade'));
    const expected = { good: upgrades.filter(([, r]) => r.state === 'completed' && !r.deadlineMissed).length, total: upgrades.length };
    let seen: unknown;
    await waitFor('every upgrade counted by the SLO on the cluster', async () => {
      seen = (await cluster.sloCounts([{ slo: SLO, fromMinute: 0, toMinute: Math.floor((T0 + 48 * H) / 60_000) }])).get(SLO);
      return JSON.stringify(seen) === JSON.stringify(expected);
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}; last counts ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)}`);
    });
    await onCluster.shutdown();

    // The same rows on the single server: every stored column of every table, copied through
    // the Distributed tables (SELECT * leaves out the materialized and alias columns). The
    // queries below then must answer alike on the same data.
    server = serverStore(id);
    await server.start();
    const reader = nodes.get('s1r2')!;
    const writer = createClient({ url: CLICKHOUSE_URL });
    try {
      for (const { name } of await nodeRows<{ name: string }>(reader, `SELECT name FROM system.tables WHERE database = '${id}' AND engine = 'Distributed'`)) {
        const rows = await nodeRows<Record<string, unknown>>(reader, `SELECT * FROM ${id}.${name}`);
        if (rows.length > 0) await writer.insert({ table: `${id}.${name}`, values: rows, format: 'JSONEachRow' });
      }
    } finally {
      await writer.close();
    }
  });

  afterAll(async () => {
    await onCluster?.shutdown();
    await producer?.disconnect();
    // Through a node, not the app's store: the database exists even when the app failed to start.
    await nodes.get('s2r2')?.command({ query: `DROP DATABASE IF EXISTS ${id} ON CLUSTER ${CLUSTER_NAME}` }).catch(() => undefined);
    await server?.command(`DROP DATABASE IF EXISTS ${id}`).catch(() => undefined);
    await server?.shutdown();
    for (const client of nodes.values()) await client.close();
    await admin?.deleteTopics({ topics: [...all, ...all.map((t) => `${t}.dlq`)] }).catch(() => undefined);
    await admin?.disconnect();
  });

  const local = (node: NodeName) => nodes.get(node)!;

  it('keeps every row of a run on both replicas of one shard, once, and uses both shards', async () => {
    const shardIds: Set<string>[] = [];
    let events = 0;
    for (const [first, second] of SHARDS) {
      for (const table of Object.keys(RUN_TABLES) as (keyof typeof RUN_TABLES)[]) {
        // Replication is asynchronous: the second replica may still be fetching the last parts.
        const a = await replicaDigest(local(first), id, table);
        const b = await waitFor(`${second} to hold what ${first} holds in ${table}`, async () => {
          const digest = await replicaDigest(local(second), id, table);
          return JSON.stringify(digest) === JSON.stringify(a) ? digest : undefined;
        });
        expect(b, `${table} on ${second}`).toEqual(a);
        expect(a.rows, `${table} on ${first}: no row twice`).toBe(a.distinct);
        expect(a.rows, `${table} on ${first}`).toBeGreaterThan(0);
        if (table === 'events') events += a.rows;
      }
      const ids = await nodeRows<{ correlation_id: string }>(
        local(first),
        `SELECT DISTINCT correlation_id FROM (${Object.keys(RUN_TABLES).map((t) => `SELECT correlation_id FROM ${id}.${t}_local`).join(' UNION ALL ')})`,
      );
      shardIds.push(new Set(ids.map((r) => r.correlation_id)));
    }
    expect(events).toBe(scenario.distinctEvents);
    const [one, two] = shardIds as [Set<string>, Set<string>];
    expect([...one].filter((c) => two.has(c))).toEqual([]);
    expect(one.size + two.size).toBeGreaterThan(scenario.expectedRuns.size);
  });

  it('reads SLO counts, minutes and series as the single server does from the same rows', async () => {
    const ranges = [
      { slo: SLO, fromMinute: 0, toMinute: Math.floor((T0 + 48 * H) / 60_000) },
      { slo: SLO, fromMinute: Math.floor(T0 / 60_000) + 30, toMinute: Math.floor(T0 / 60_000) + 200 },
    ];
    for (const range of ranges) {
      expect(await cluster.sloCounts([range])).toEqual(await server.sloCounts([range]));
      expect(await cluster.sloMinutes([range])).toEqual(await server.sloMinutes([range]));
      expect(await cluster.sloSeries(range, 15)).toEqual(await server.sloSeries(range, 15));
    }
    const [total] = (await cluster.sloCounts([ranges[0]!])).values();
    expect(total!.total).toBeGreaterThan(0);
    expect(total!.good).toBeLessThan(total!.total);
  });

  it('gives the same traces, scorecard figures and recovery as the single server from the same rows', async () => {
    const ids = [...scenario.expectedRuns.keys()].map((k) => k.split(':')[1]!).filter((_, i) => i % 9 === 0);
    for (const correlationId of ids) {
      const trace = await cluster.trace(correlationId);
      expect(trace.runs.length, correlationId).toBeGreaterThan(0);
      expect(trace, correlationId).toEqual(await server.trace(correlationId));
    }
    const week = { from: T0 - H, to: T0 + 48 * H };
    const workflows = ['plan-upgrade', 'support-ticket'];
    expect(await cluster.workflowRuns(workflows, week)).toEqual(await server.workflowRuns(workflows, week));
    expect(await cluster.slowSteps(workflows, week, 10)).toEqual(await server.slowSteps(workflows, week, 10));
    expect(await cluster.failureModes(workflows, week, 10)).toEqual(await server.failureModes(workflows, week, 10));
    const query = { partitions: null, runHorizon: 48 * H, holdHorizon: H, replayFrom: [] };
    const sorted = (r: Awaited<ReturnType<ClickHouseStore['recover']>>) => ({
      ...r,
      events: [...r.events].sort((a, b) => `${a.source}/${a.id}`.localeCompare(`${b.source}/${b.id}`)),
      runs: [...r.runs].sort((a, b) => a.runId.localeCompare(b.runId)),
    });
    expect(sorted(await cluster.recover(query))).toEqual(sorted(await server.recover(query)));
  });

  it('answers every Grafana panel as the single server does from the same rows, through the Distributed tables with no session settings', async () => {
    const range: GrafanaRange = { from: T0 - H, to: T0 + 30 * H, intervalMs: 10 * 60_000 };
    const variables = { database: id, workflow: ['plan-upgrade', 'support-ticket'], slo: SLO, correlation_id: 'c-up-5' };
    const plain = local('s1r2');
    const onSingle = (sql: string) => server.rows<Record<string, unknown>>(sql);
    const onNodes = (sql: string) => nodeRows<Record<string, unknown>>(plain, sql);
    const canonical = (rows: Record<string, unknown>[]) => rows.map((r) => JSON.stringify(r)).sort();
    let answered = 0;
    for (const sql of [...ALL_QUERIES.map((q) => q.sql), ...variableQueriesOf()]) {
      const text = expandPanelSql(sql, range, variables);
      const expected = await onSingle(text);
      expect(canonical(await onNodes(text)), sql).toEqual(canonical(expected));
      if (expected.length > 0) answered++;
    }
    expect(answered).toBeGreaterThan(10);
  });
});
