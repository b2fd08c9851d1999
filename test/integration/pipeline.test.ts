import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Producer } from 'kafkajs';
import { parseConfigText } from '../../src/config/load.ts';
import { Seamwatch } from '../../src/app.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import type { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { buildScenario, produceAll, scenarioConfig, type Scenario, type ScenarioTopics } from '../support/scenario.ts';
import { CLICKHOUSE_URL, ENGINES, ENGINE_NAMES, KAFKA_BROKERS, createTopics, groupLag, kafka, requireServices, store, storeYaml, unique, waitFor } from '../support/services.ts';

describe.each(ENGINES.map((e) => [ENGINE_NAMES[e], e] as const))('Kafka → stitched runs → ClickHouse, on %s', (_name, engine) => {
  const id = unique('pipe');
  const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  const database = id;
  const groupId = `${id}-group`;
  let admin: Admin;
  let producer: Producer;
  let app: Seamwatch;
  let ch: ClickHouseStore;
  let scenario: Scenario;

  beforeAll(async () => {
    await requireServices();
    admin = kafka().admin();
    await admin.connect();
    await createTopics(admin, Object.values(topics));
    producer = kafka().producer();
    await producer.connect();
    const text = scenarioConfig(topics, { database, groupId, brokers: KAFKA_BROKERS, clickhouseUrl: CLICKHOUSE_URL, store: storeYaml(database, engine) });
    const config = parseConfigText(text, 'test');
    app = new Seamwatch({ config, logger: silentLogger() });
    ch = store(database, engine);
    scenario = buildScenario(topics, 300, 80);
    await app.start();
    expect(app.store.kind).toBe(engine);
    await produceAll(producer, scenario.messages);
    const all = [...Object.values(topics)];
    await waitFor('the group to commit every message', async () => (await groupLag(admin, groupId, all)) === 0, 90_000);
    // Event time has passed every deadline (heartbeats a day later); let the verdicts land.
    await waitFor('every run', async () => {
      const [row] = await ch.rows<{ n: string }>(`SELECT uniqExact(run_id) AS n FROM ${database}.runs`);
      return Number(row?.n) === scenario.expectedRuns.size;
    });
  });

  afterAll(async () => {
    await app?.shutdown();
    await producer?.disconnect();
    await ch?.command(`DROP DATABASE IF EXISTS ${database}`);
    await ch?.shutdown();
    await admin?.deleteTopics({ topics: [...Object.values(topics), ...Object.values(topics).map((t) => `${t}.dlq`)] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('stores each valid event once, redeliveries included', async () => {
    const [row] = await ch.rows<{ rows: string; distinct: string }>(
      `SELECT count() AS rows, uniqExact(source, event_id) AS distinct FROM ${database}.events FINAL`,
    );
    expect(Number(row!.distinct)).toBe(scenario.distinctEvents);
    expect(Number(row!.rows)).toBe(scenario.distinctEvents);
  });

  it('gives every run exactly one final state, the right one', async () => {
    await waitFor(
      'final verdicts',
      async () => {
        const rows = await ch.rows<{ run_id: string; state: string; missed: number }>(
          `SELECT run_id, argMax(state, version) AS state, argMax(deadline_missed, version) AS missed FROM ${database}.runs GROUP BY run_id`,
        );
        const actual = new Map(rows.map((r) => [r.run_id, { state: r.state, deadlineMissed: Number(r.missed) === 1 }]));
        const wrong = [...scenario.expectedRuns].filter(([runId, expected]) => JSON.stringify(actual.get(runId)) !== JSON.stringify(expected));
        return wrong.length === 0 && actual.size === scenario.expectedRuns.size ? true : undefined;
      },
      30_000,
    ).catch(async (error: unknown) => {
      const rows = await ch.rows<{ run_id: string; state: string; missed: number }>(
        `SELECT run_id, argMax(state, version) AS state, argMax(deadline_missed, version) AS missed FROM ${database}.runs GROUP BY run_id`,
      );
      const actual = new Map(rows.map((r) => [r.run_id, { state: r.state, deadlineMissed: Number(r.missed) === 1 }]));
      const wrong = [...scenario.expectedRuns].filter(([runId, expected]) => JSON.stringify(actual.get(runId)) !== JSON.stringify(expected));
      expect(wrong.slice(0, 5).map(([runId, expected]) => ({ runId, expected, actual: actual.get(runId) }))).toEqual([]);
      throw error;
    });
    const states = await ch.rows<{ state: string; n: string }>(
      `SELECT state, count() AS n FROM (SELECT run_id, argMax(state, version) AS state FROM ${database}.runs GROUP BY run_id) GROUP BY state ORDER BY state`,
    );
    const expectedCounts: Record<string, number> = {};
    for (const run of scenario.expectedRuns.values()) expectedCounts[run.state] = (expectedCounts[run.state] ?? 0) + 1;
    expect(Object.fromEntries(states.map((s) => [s.state, Number(s.n)]))).toEqual(expectedCounts);
  });

  it('dead-letters malformed messages with the reason and where they came from, and keeps going', async () => {
    const letters = await ch.rows<{ topic: string; reason: string; detail: string; raw_base64: string }>(
      `SELECT topic, reason, detail, raw_base64 FROM ${database}.dead_letters FINAL ORDER BY topic, reason`,
    );
    const expected = [...scenario.malformed].sort((a, b) => a.topic.localeCompare(b.topic) || a.reason.localeCompare(b.reason));
    expect(letters.map((l) => ({ topic: l.topic, reason: l.reason }))).toEqual(expected);
    expect(letters.every((l) => l.detail.length > 0 && l.raw_base64.length > 0)).toBe(true);

    const consumer = kafka().consumer({ groupId: unique('dlq-reader') });
    const received: { topic: string; headers: Record<string, string>; value: string }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: Object.values(topics).map((t) => `${t}.dlq`), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        received.push({ topic, headers, value: message.value?.toString() ?? '' });
      },
    });
    await waitFor('dead letters on the DLQ topics', async () => received.length >= scenario.malformed.length, 30_000);
    await consumer.disconnect();
    expect(received).toHaveLength(scenario.malformed.length);
    const notJson = received.find((r) => r.headers['seamwatch-dlq-reason'] === 'not-json')!;
    expect(notJson.topic).toBe(`${topics.crm}.dlq`);
    expect(notJson.value).toBe('not json at all {');
    expect(notJson.headers['seamwatch-dlq-topic']).toBe(topics.crm);
    expect(Number(notJson.headers['seamwatch-dlq-offset'])).toBeGreaterThanOrEqual(0);
  });

  it('answers a trace by correlation ID with runs, spans and events', async () => {
    const res = await fetch(`http://127.0.0.1:${app.http.port}/api/v1/traces/c-up-4`);
    expect(res.status).toBe(200);
    const trace = (await res.json()) as { runs: { state: string }[]; spans: { step: string; status: string }[]; events: { type: string }[] };
    expect(trace.runs.map((r) => r.state)).toEqual(['completed']);
    expect(trace.events.map((e) => e.type).sort()).toEqual(['entitlement.activated', 'entitlement.failed', 'invoice.updated', 'subscription.upgraded']);
    expect(trace.spans.map((s) => `${s.step}:${s.status}`)).toEqual(['trigger:done', 'invoice-updated:done', 'entitlement-activated:done']);
    expect((await fetch(`http://127.0.0.1:${app.http.port}/api/v1/traces/nope`)).status).toBe(404);
  });

  it('exposes pipeline metrics and readiness', async () => {
    const text = await (await fetch(`http://127.0.0.1:${app.http.port}/metrics`)).text();
    expect(text).toMatch(/seamwatch_events_duplicate_total \d+/);
    const dup = Number(/seamwatch_events_duplicate_total (\d+)/.exec(text)![1]);
    expect(dup).toBeGreaterThanOrEqual(scenario.redeliveries);
    expect(text).toContain(`seamwatch_dead_letters_total{topic="${topics.crm}",reason="not-json"} 1`);
    expect((await fetch(`http://127.0.0.1:${app.http.port}/readyz`)).status).toBe(200);
  });
});
