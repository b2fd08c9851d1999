import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Producer } from 'kafkajs';
import type { ClickHouseClient } from '@clickhouse/client';
import { parseConfigText } from '../../src/config/load.ts';
import { Seamwatch } from '../../src/app.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import type { Counts } from '../../src/domain/slo-counts.ts';
import { upgradeSyncSloYaml } from '../support/slo-fixtures.ts';
import { buildScenario, produceAll, scenarioConfig, T0, type Scenario, type ScenarioTopics } from '../support/scenario.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, createTopics, groupLag, kafka, requireServices, unique, waitFor } from '../support/services.ts';
import { CLUSTER_NAME, ENTRY_URL, RUN_TABLES, clusterScript, nodeClient, nodeUp, replicaDigest, type ReplicaDigest } from '../support/cluster.ts';

/**
 * A replica outage under load: s1r1, the replica that takes shard 1's writes, is stopped while
 * seamwatch writes a stream; seamwatch must keep writing (to s1r2) and lose nothing, and s1r1
 * must catch up when it comes back.
 */
const H = 3_600_000;

describe('a replica of the ClickHouse cluster stopped under load', () => {
  const id = unique('out');
  const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  const all = Object.values(topics);
  const groupId = `${id}-group`;
  let admin: Admin;
  let producer: Producer;
  let app: Seamwatch;
  let store: ClickHouseStore;
  let scenario: Scenario;
  let s1r1: ClickHouseClient;
  let s1r2: ClickHouseClient;
  const seen: { atStop: number; whileDown: number; committedWhileDown: boolean; restartedWhileDown?: string; sloCounts?: Counts | undefined } = {
    atStop: 0,
    whileDown: 0,
    committedWhileDown: false,
  };

  const halves = (messages: Scenario['messages']) => {
    const split = (take: 0 | 1) => new Map([...messages].map(([topic, list]) => [topic, take === 0 ? list.slice(0, list.length >> 1) : list.slice(list.length >> 1)]));
    return [split(0), split(1)] as const;
  };
  const storedEvents = async () => Number((await store.rows<{ n: string }>(`SELECT count() AS n FROM ${id}.events`))[0]!.n);

  beforeAll(async () => {
    await clusterScript('start');
    await requireServices();
    s1r1 = nodeClient('s1r1');
    s1r2 = nodeClient('s1r2');
    admin = kafka().admin();
    await admin.connect();
    await createTopics(admin, all);
    producer = kafka().producer();
    await producer.connect();
    const text = scenarioConfig(topics, {
      database: id,
      groupId,
      brokers: KAFKA_BROKERS,
      clickhouseUrl: CLICKHOUSE_URL,
      store: `{ clickhouse: { url: "${ENTRY_URL}", database: ${id}, cluster: ${CLUSTER_NAME}, requestTimeout: 20s } }`,
      pipeline: '{ flushInterval: 200ms, idleAdvanceAfter: 2s, sloEvaluateEvery: 200ms }',
      slos: upgradeSyncSloYaml('99%'),
    });
    app = new Seamwatch({ config: parseConfigText(text, 'test'), logger: silentLogger() });
    await app.start();
    store = app.store as ClickHouseStore;
    scenario = buildScenario(topics, 1_500, 200, 'o');

    // The first half of the stream is being written when s1r1 stops; the second half can only
    // be written while it is down.
    const [first, second] = halves(scenario.messages);
    const producing = produceAll(producer, first, 200, 100);
    await waitFor('the first events on the cluster', async () => (await storedEvents()) > 500, 60_000, 50);
    await clusterScript('stop-node', 's1r1');
    expect(await nodeUp('s1r1')).toBe(false);
    seen.atStop = await storedEvents();
    await producing;
    await produceAll(producer, second, 200, 100);
    await waitFor('the group to commit every message, with s1r1 down', async () => (await groupLag(admin, groupId, all)) === 0, 120_000);
    const upgrades = [...scenario.expectedRuns].filter(([k]) => k.startsWith('plan-upgrade'));
    const expected = { good: upgrades.filter(([, r]) => r.state === 'completed' && !r.deadlineMissed).length, total: upgrades.length };
    await waitFor('every upgrade counted by the SLO, with s1r1 down', async () => {
      seen.sloCounts = (await store.sloCounts([{ slo: 'upgrade-sync-5m', fromMinute: 0, toMinute: Math.floor((T0 + 72 * H) / 60_000) }])).get('upgrade-sync-5m');
      return JSON.stringify(seen.sloCounts) === JSON.stringify(expected);
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}; counted ${JSON.stringify(seen.sloCounts)}, expected ${JSON.stringify(expected)}`);
    });
    seen.committedWhileDown = !(await nodeUp('s1r1'));
    // An instance (re)starting now finds its schema applied and needs no ON CLUSTER statement,
    // which would wait for s1r1.
    const restarted = new ClickHouseStore({ url: ENTRY_URL, database: id, username: 'default', password: '', requestTimeout: 15_000, cluster: CLUSTER_NAME, logger: silentLogger() });
    seen.restartedWhileDown = await restarted.start().then(() => 'started', (error: unknown) => String(error));
    await restarted.shutdown();
    seen.whileDown = await storedEvents();
  });

  afterAll(async () => {
    await app?.shutdown();
    await producer?.disconnect();
    // ON CLUSTER waits for every node: bring s1r1 back first if a failure left it down.
    await clusterScript('start-node', 's1r1').catch(() => undefined);
    await s1r2?.command({ query: `DROP DATABASE IF EXISTS ${id} ON CLUSTER ${CLUSTER_NAME}` }).catch(() => undefined);
    await s1r1?.close();
    await s1r2?.close();
    await admin?.deleteTopics({ topics: [...all, ...all.map((t) => `${t}.dlq`)] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('keeps writing while s1r1 is down, and loses nothing: every event, run and SLO verdict', async () => {
    expect(seen.committedWhileDown).toBe(true);
    expect(seen.whileDown).toBeGreaterThan(seen.atStop);
    expect(seen.atStop).toBeLessThan(scenario.distinctEvents);
    const [events] = await store.rows<{ n: string; distinct: string }>(
      `SELECT count() AS n, uniqExact(source, event_id) AS distinct FROM ${id}.events FINAL`,
    );
    expect(Number(events!.distinct)).toBe(scenario.distinctEvents);
    expect(Number(events!.n)).toBe(scenario.distinctEvents);
    const [runs] = await store.rows<{ n: string }>(`SELECT uniqExact(run_id) AS n FROM ${id}.runs`);
    expect(Number(runs!.n)).toBe(scenario.expectedRuns.size);
  });

  it('an instance restarting while s1r1 is down starts: its schema is there, nothing waits for s1r1', () => {
    expect(seen.restartedWhileDown).toBe('started');
  });

  it('s1r1 catches up when it comes back: both replicas of shard 1 hold the same rows, once', async () => {
    await clusterScript('start-node', 's1r1');
    for (const table of Object.keys(RUN_TABLES) as (keyof typeof RUN_TABLES)[]) {
      const survivor = await replicaDigest(s1r2, id, table);
      expect(survivor.rows, table).toBeGreaterThan(0);
      let returned: ReplicaDigest | undefined;
      await waitFor(`s1r1 to fetch what it missed of ${table}`, async () => {
        returned = await replicaDigest(s1r1, id, table);
        return JSON.stringify(returned) === JSON.stringify(survivor);
      }, 60_000).catch((error: unknown) => {
        throw new Error(`${String(error)}; s1r1 ${JSON.stringify(returned)}, s1r2 ${JSON.stringify(survivor)}`);
      });
      if (table === 'events') expect(survivor.rows, 'events on shard 1: no row twice').toBe(survivor.distinct);
    }
  });
});
