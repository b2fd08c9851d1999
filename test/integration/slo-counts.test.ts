import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upgradeSyncSloYaml } from '../support/slo-fixtures.ts';
import type { Admin, Producer } from 'kafkajs';
import { parseConfigText } from '../../src/config/load.ts';
import { Seamwatch } from '../../src/app.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import type { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { billingWebhook, cloudEvent, produceAll, scenarioConfig, T0, type ScenarioTopics } from '../support/scenario.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, createTopics, groupLag, kafka, requireServices, store, unique, waitFor } from '../support/services.ts';

const S = 1_000;
const M = 60 * S;

const SLOS = upgradeSyncSloYaml('99%');

describe('SLO counts on real Kafka and ClickHouse', () => {
  const id = unique('slo_cnt');
  const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  const all = Object.values(topics);
  let admin: Admin;
  let producer: Producer;
  let ch: ClickHouseStore;
  let app: Seamwatch | undefined;

  beforeAll(async () => {
    await requireServices();
    admin = kafka().admin();
    await admin.connect();
    await createTopics(admin, all);
    producer = kafka().producer();
    await producer.connect();
    ch = store(id);
  });

  afterAll(async () => {
    await app?.shutdown().catch(() => undefined);
    await producer?.disconnect();
    await ch?.command(`DROP DATABASE IF EXISTS ${id}`);
    await ch?.shutdown();
    await admin?.deleteTopics({ topics: [...all, ...all.map((t) => `${t}.dlq`)] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('counts a run once when its earlier trigger arrives after its verdict was stored', async () => {
    const text = scenarioConfig(topics, { database: id, groupId: `${id}-group`, brokers: KAFKA_BROKERS, clickhouseUrl: CLICKHOUSE_URL, pipeline: '{ flushInterval: 100ms, idleAdvanceAfter: 2s }', slos: SLOS });
    app = new Seamwatch({ config: parseConfigText(text, 'test'), logger: silentLogger() });
    await app.start();
    const committed = () => waitFor('the messages to be committed', async () => (await groupLag(admin, `${id}-group`, all)) === 0, 60_000);
    const counted = async () => {
      // Aliases differ from the columns: ClickHouse resolves an alias inside other expressions.
      const [row] = await ch.rows<{ runs: string; counted: string }>(`SELECT sum(total) AS runs, countIf(total > 0) AS counted FROM ${id}.slo_minutes FINAL`);
      return { total: Number(row?.runs ?? 0), minutes: Number(row?.counted ?? 0) };
    };

    // A retry re-sent the upgrade three minutes later; that copy arrives first, with the steps.
    const c = 'reordered';
    await produceAll(producer, new Map([
      [topics.crm, [cloudEvent('crm', 'subscription.upgraded', 'up-retry', c, T0 + 3 * M, false)]],
      [topics.billing, [billingWebhook('invoice.updated', 'inv', c, T0 + 3 * M + 10 * S), billingWebhook('entitlement.activated', 'ent', c, T0 + 3 * M + 20 * S)]],
    ]));
    await committed();
    await waitFor('the verdict to be counted', async () => (await counted()).total === 1, 30_000);

    // The original upgrade arrives last: the run starts three minutes earlier, so it is due at another minute.
    await produceAll(producer, new Map([[topics.crm, [cloudEvent('crm', 'subscription.upgraded', 'up-first', c, T0, false)]]]));
    await committed();
    // Committed means stored: the run row, its verdict and the recount are written before the commit.
    const [run] = await ch.rows<{ started: string }>(`SELECT argMax(started_at_ms, version) AS started FROM ${id}.runs WHERE correlation_id = '${c}'`);
    expect(Number(run!.started)).toBe(T0);
    expect(await counted()).toEqual({ total: 1, minutes: 1 });
    const minutes = await ch.sloMinutes([{ slo: 'upgrade-sync-5m', fromMinute: T0 / M, toMinute: T0 / M + 60 }]);
    expect(minutes.get('upgrade-sync-5m')).toEqual([{ minute: T0 / M + 5, good: 1, total: 1 }]);
  });
});
