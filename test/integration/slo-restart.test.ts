import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Producer } from 'kafkajs';
import { parseConfigText } from '../../src/config/load.ts';
import { Seamwatch } from '../../src/app.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { produceAll, scenarioConfig, T0, type ScenarioTopics } from '../support/scenario.ts';
import { burnRuns as runs } from '../support/slo-burn.ts';
import { upgradeSyncSloYaml } from '../support/slo-fixtures.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, createTopics, groupLag, kafka, requireServices, store, unique, waitFor } from '../support/services.ts';

const S = 1_000;
const M = 60 * S;
const SLOS = `${upgradeSyncSloYaml('99%')}alerting: { keepFiringFor: 0s }
`;

const burnAlert = (app: Seamwatch) => app.alerts.alerts().find((a) => a.labels['detector'] === 'slo-burn' && a.annotations['tier'] === 'page-1h');

describe('SLO burn alerts across a restart, on real Kafka and ClickHouse', () => {
  let admin: Admin;
  let producer: Producer;
  const apps: Seamwatch[] = [];
  const cleanup: { database: string; topics: string[] }[] = [];

  beforeAll(async () => {
    await requireServices();
    admin = kafka().admin();
    await admin.connect();
    producer = kafka().producer();
    await producer.connect();
  });

  afterAll(async () => {
    for (const app of apps) await app.shutdown().catch(() => undefined);
    await producer?.disconnect();
    for (const { database, topics } of cleanup) {
      const ch = store(database);
      await ch.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
      await ch.shutdown();
      await admin?.deleteTopics({ topics: [...topics, ...topics.map((t) => `${t}.dlq`)] }).catch(() => undefined);
    }
    await admin?.disconnect();
  });

  async function setup(prefix: string) {
    const id = unique(prefix);
    const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
    const all = Object.values(topics);
    cleanup.push({ database: id, topics: all });
    await createTopics(admin, all);
    const start = async (sloEvaluateEvery: string) => {
      const text = scenarioConfig(topics, {
        database: id,
        groupId: `${id}-group`,
        brokers: KAFKA_BROKERS,
        clickhouseUrl: CLICKHOUSE_URL,
        pipeline: `{ flushInterval: 100ms, idleAdvanceAfter: 2s, sloEvaluateEvery: ${sloEvaluateEvery} }`,
        slos: SLOS,
      });
      const app = new Seamwatch({ config: parseConfigText(text, 'test'), logger: silentLogger() });
      apps.push(app);
      await app.start();
      return app;
    };
    const committed = () => waitFor('the stream to be committed', async () => (await groupLag(admin, `${id}-group`, all)) === 0, 60_000);
    return { topics, start, committed };
  }

  const stop = async (app: Seamwatch) => {
    await app.shutdown();
    apps.splice(apps.indexOf(app), 1);
  };

  const sloChanges = async (app: Seamwatch, change: string) => {
    const text = await app.registry.metrics();
    return Number(new RegExp(`seamwatch_alert_changes_total\\{detector="slo-burn",change="${change}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  };

  it('resolves after a restart a burn alert that fired before it, when the burn ended while seamwatch was down', async () => {
    const { topics, start, committed } = await setup('slo_rs');
    const first = await start('100ms');
    await produceAll(producer, runs(topics, 0, 88));
    await committed();
    await waitFor('the page-1h burn alert to fire', async () => burnAlert(first)?.state === 'firing', 30_000);
    const fired = burnAlert(first)!;
    await stop(first);

    // While it is down, the burn ends: an hour of upgrades that all sync in time.
    await produceAll(producer, runs(topics, 88, 150));
    // Its SLO engine first evaluates once the backlog is read (cycles are seconds apart, reading
    // an hour of backlog is quicker): the burn is over by then.
    const second = await start('1h');
    await committed();
    await waitFor('the page-1h burn alert to resolve', async () => {
      await second.slo.cycle();
      return burnAlert(second)?.state === 'resolved';
    });
    // The same alert, not a second one: no burn alert fired again after the restart.
    expect(burnAlert(second)!.fingerprint).toBe(fired.fingerprint);
    expect(burnAlert(second)!.startsAt).toBe(fired.startsAt);
    expect(await sloChanges(second, 'firing')).toBe(0);
    expect(await sloChanges(second, 'resolved')).toBeGreaterThanOrEqual(1);
  });

  it('after a restart evaluates what the store holds without waiting for new traffic', async () => {
    const { topics, start, committed } = await setup('slo_rq');
    // The first instance evaluates only when told to, so the burn's end reaches the store unevaluated.
    const first = await start('1h');
    await produceAll(producer, runs(topics, 0, 88));
    await committed();
    // A fresh engine catches up over three days, at most one a cycle.
    await waitFor('the page-1h burn alert to fire', async () => {
      await first.slo.cycle();
      return burnAlert(first)?.state === 'firing';
    });
    const fired = burnAlert(first)!;
    await produceAll(producer, runs(topics, 88, 150));
    await committed();
    await stop(first);

    const second = await start('100ms');
    await waitFor('the page-1h burn alert to resolve with no new message', async () => burnAlert(second)?.state === 'resolved', 30_000);
    expect(burnAlert(second)!.startsAt).toBe(fired.startsAt);
    expect(await sloChanges(second, 'firing')).toBe(0);
    const [status] = second.slo.status('upgrade-sync-5m');
    expect(status!.at).toBeGreaterThanOrEqual(T0 + 140 * M);
  });
});
