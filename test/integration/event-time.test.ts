import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Message, Producer } from 'kafkajs';
import { parseConfigText } from '../../src/config/load.ts';
import { Seamwatch } from '../../src/app.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import type { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { cloudEvent, scenarioConfig, type ScenarioTopics } from '../support/scenario.ts';
import { SCENARIO_DETECTORS, webhook } from '../support/alert-scenario.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, createTopics, groupLag, kafka, requireServices, store, unique, waitFor } from '../support/services.ts';

const S = 1_000;
const YEAR = 365 * 86_400_000;

/**
 * The week a user saw: live traffic, plus one event stamped three years ahead (a unix-ms value
 * read as seconds) and producers writing to the wrong topic. Before, the one event dragged the
 * watermark years ahead: open runs were judged missed and paged, and detectors dropped every
 * new event as too old, so a duplicate invoice produced afterwards was never paged.
 */
describe('event time that cannot be poisoned, on real Kafka and ClickHouse', () => {
  const id = unique('evtime');
  const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  const all = Object.values(topics);
  const groupId = `${id}-group`;
  /** Live traffic: event times a minute behind the wall clock. */
  const base = Date.now() - 60 * S;
  let admin: Admin;
  let producer: Producer;
  let app: Seamwatch;
  let ch: ClickHouseStore;

  const send = async (byTopic: [string, Message[]][]) => {
    for (const [topic, messages] of byTopic) await producer.send({ topic, messages });
  };
  const runState = async (runId: string) => {
    const [row] = await ch.rows<{ state: string; missed: number }>(
      `SELECT argMax(state, version) AS state, argMax(deadline_missed, version) AS missed FROM ${id}.runs WHERE run_id = '${runId}'`,
    );
    return row && row.state !== '' ? { state: row.state, deadlineMissed: Number(row.missed) === 1 } : undefined;
  };
  const firing = () => app.alerts.alerts().filter((a) => a.state === 'firing').map((a) => `${a.labels['detector']} ${a.annotations['correlation_id'] ?? ''}`).sort();

  beforeAll(async () => {
    await requireServices();
    admin = kafka().admin();
    await admin.connect();
    await createTopics(admin, all);
    producer = kafka().producer();
    await producer.connect();
    const text = scenarioConfig(topics, { database: id, groupId, brokers: KAFKA_BROKERS, clickhouseUrl: CLICKHOUSE_URL, slos: SCENARIO_DETECTORS });
    app = new Seamwatch({ config: parseConfigText(text, 'test'), logger: silentLogger() });
    ch = store(id);
    await app.start();
  });

  afterAll(async () => {
    await app?.shutdown();
    await producer?.disconnect();
    await ch?.command(`DROP DATABASE IF EXISTS ${id}`);
    await ch?.shutdown();
    await admin?.deleteTopics({ topics: [...all, ...all.map((t) => `${t}.dlq`)] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('dead-letters the poison with its reasons, keeps the watermark, misses no deadline and still pages a fresh duplicate invoice', async () => {
    // Phase 1: a plan upgrade starts; the poison arrives while it is open.
    await send([
      [
        topics.crm,
        [
          cloudEvent('crm', 'subscription.upgraded', 'crm-up-ok', 'up-ok', base, false),
          cloudEvent('crm', 'lead.created', 'crm-lead-future', 'lead-future', base + 3 * YEAR, false),
          cloudEvent('crm', 'lead.created', 'crm-lead-long', 'x'.repeat(5_000), base, false),
        ],
      ],
      [topics.ticketing, [cloudEvent('crm', 'subscription.upgraded', 'crm-up-misrouted', 'up-misrouted', base, false)]],
      [topics.billing, [cloudEvent('crm', 'subscription.upgraded', 'crm-up-on-billing', 'up-on-billing', base, false)]],
    ]);
    await waitFor('the group to commit phase 1', async () => (await groupLag(admin, groupId, all)) === 0, 60_000);
    await waitFor('the open run', async () => runState('plan-upgrade:up-ok'), 30_000);
    // Long enough for every partition to go idle (idleAdvanceAfter 2s) and event time to move on.
    await new Promise((r) => setTimeout(r, 4 * S));
    expect(await runState('plan-upgrade:up-ok')).toEqual({ state: 'open', deadlineMissed: false });
    expect(app.pipeline.stitcher.watermarkAt(Date.now())).toBeLessThan(Date.now());

    const letters = await ch.rows<{ topic: string; reason: string; detail: string }>(`SELECT topic, reason, detail FROM ${id}.dead_letters FINAL ORDER BY reason`);
    expect(letters.map((l) => [l.topic, l.reason])).toEqual([
      [topics.crm, 'field-too-long'],
      [topics.billing, 'missing-field'],
      [topics.ticketing, 'source-mismatch'],
      [topics.crm, 'time-in-future'],
    ]);
    expect(letters.find((l) => l.reason === 'field-too-long')!.detail).toBe('"correlationid" is 5000 characters long (at most 256)');
    const [events] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM ${id}.events FINAL`);
    expect(Number(events!.n)).toBe(1);

    // Phase 2: the upgrade completes in time, and an account is invoiced twice.
    await send([
      [
        topics.billing,
        [
          webhook('invoice.updated', 'evt_inv_ok', 'up-ok', base + 10 * S),
          webhook('entitlement.activated', 'evt_ent_ok', 'up-ok', base + 20 * S),
          webhook('invoice.created', 'evt_a', 'bill-1', base + 30 * S, { account_id: 'acct-1', billing_period: '2026-11' }),
          webhook('invoice.created', 'evt_b', 'bill-2', base + 40 * S, { account_id: 'acct-1', billing_period: '2026-11' }),
        ],
      ],
    ]);
    await waitFor('the upgrade to complete', async () => (await runState('plan-upgrade:up-ok'))?.state === 'completed', 30_000);
    expect(await runState('plan-upgrade:up-ok')).toEqual({ state: 'completed', deadlineMissed: false });
    await waitFor('the duplicate invoice to page', async () => firing().includes('duplicate-invoice bill-2'), 30_000).catch(() => {
      expect(firing()).toContain('duplicate-invoice bill-2');
    });
    expect(firing()).toEqual(['duplicate-invoice bill-2']);

    const dlq = kafka().consumer({ groupId: unique('dlq-reader') });
    const received: { topic: string; reason: string }[] = [];
    await dlq.connect();
    await dlq.subscribe({ topics: all.map((t) => `${t}.dlq`), fromBeginning: true });
    await dlq.run({ eachMessage: async ({ topic, message }) => void received.push({ topic, reason: String(message.headers?.['seamwatch-dlq-reason']) }) });
    await waitFor('the dead letters on the DLQ topics', async () => received.length >= 4, 30_000);
    await dlq.disconnect();
    expect(received.map((r) => `${r.topic} ${r.reason}`).sort()).toEqual(
      [`${topics.billing}.dlq missing-field`, `${topics.crm}.dlq field-too-long`, `${topics.crm}.dlq time-in-future`, `${topics.ticketing}.dlq source-mismatch`].sort(),
    );

    const metrics = await waitFor(
      'the gauges to be refreshed',
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${app.http.port}/metrics`)).text();
        const lag = Number(/^seamwatch_watermark_lag_seconds (\S+)$/m.exec(text)?.[1]);
        return lag > 0 && lag < 3_600 ? text : undefined;
      },
      15_000,
    );
    for (const [topic, reason] of [[topics.crm, 'time-in-future'], [topics.crm, 'field-too-long'], [topics.ticketing, 'source-mismatch']]) {
      expect(metrics).toContain(`seamwatch_dead_letters_total{topic="${topic}",reason="${reason}"} 1`);
    }
  });
});
