import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Message, Producer } from 'kafkajs';
import { parseConfigText } from '../../src/config/load.ts';
import { Seamwatch } from '../../src/app.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { cloudEvent, scenarioConfig, T0, type ScenarioTopics } from '../support/scenario.ts';
import { SCENARIO_ALERTS, SCENARIO_DETECTORS, alertScenario, heartbeats, webhook } from '../support/alert-scenario.ts';
import { CLICKHOUSE_URL, ENGINES, ENGINE_NAMES, KAFKA_BROKERS, createTopics, groupLag, kafka, requireServices, store, storeYaml, unique, waitFor } from '../support/services.ts';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;

const DETECTORS = SCENARIO_DETECTORS;

describe.each(ENGINES.map((e) => [ENGINE_NAMES[e], e] as const))('business alerts from detectors on real Kafka and %s', (_name, engine) => {
  const id = unique('alerts');
  const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  const all = Object.values(topics);
  let admin: Admin;
  let producer: Producer;
  let app: Seamwatch;

  const alerts = async () => {
    const body = (await (await fetch(`http://127.0.0.1:${app.http.port}/api/v1/alerts`)).json()) as {
      alerts: { state: string; labels: Record<string, string>; annotations: Record<string, string> }[];
    };
    return body.alerts.map((a) => `${a.labels['detector']} ${a.annotations['correlation_id'] ?? a.annotations['business_key'] ?? ''} ${a.state}`).sort();
  };
  const send = async (byTopic: Map<string, Message[]>) => {
    for (const [topic, messages] of byTopic) await producer.send({ topic, messages });
  };

  beforeAll(async () => {
    await requireServices();
    admin = kafka().admin();
    await admin.connect();
    await createTopics(admin, all);
    producer = kafka().producer();
    await producer.connect();
    const text = scenarioConfig(topics, { database: id, groupId: `${id}-group`, brokers: KAFKA_BROKERS, clickhouseUrl: CLICKHOUSE_URL, store: storeYaml(id, engine), slos: DETECTORS });
    app = new Seamwatch({ config: parseConfigText(text, 'test'), logger: silentLogger() });
    await app.start();
    expect(app.store.kind).toBe(engine);
  });

  afterAll(async () => {
    await app?.shutdown();
    await producer?.disconnect();
    const ch = store(id, engine);
    await ch.command(`DROP DATABASE IF EXISTS ${id}`);
    await ch.shutdown();
    await admin?.deleteTopics({ topics: [...all, ...all.map((t) => `${t}.dlq`)] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('raises one alert per real problem, none for redeliveries or a 429 that healed, and resolves a stuck ticket when it moves', async () => {
    await send(alertScenario(topics));
    await send(heartbeats(topics, T0 + 5 * H));
    const expected = SCENARIO_ALERTS;
    await waitFor('the alerts', async () => JSON.stringify(await alerts()) === JSON.stringify(expected), 60_000).catch(async () => {
      expect(await alerts()).toEqual(expected);
    });
    // Alerts come from processing; the commit follows the flush after it.
    await waitFor('the stream to be committed', async () => (await groupLag(admin, `${id}-group`, all)) === 0, 30_000);

    await send(new Map([[topics.ticketing, [cloudEvent('ticketing', 'ticket.updated', 'tk-stuck-upd', 'tk-stuck', T0 + 5 * H + M, false)]]]));
    await waitFor('the stuck ticket to resolve', async () => (await alerts()).includes('stuck-ticket tk-stuck resolved'), 30_000);
    expect(await alerts()).toEqual([
      'charged-not-entitled up-fail firing',
      'duplicate-invoice bill-2 firing',
      'stuck-ticket tk-stuck resolved',
      'upgrade-late up-fail firing',
      'upgrade-late up-missing firing',
    ]);
    const metrics = await (await fetch(`http://127.0.0.1:${app.http.port}/metrics`)).text();
    expect(metrics).toContain('seamwatch_alerts_firing{detector="duplicate-invoice"} 1');
    expect(metrics).toContain('seamwatch_alert_changes_total{detector="stuck-ticket",change="resolved"} 1');
    // The healed 429 and the declined card are counted by error class; only the latter alerted.
    expect(metrics).toContain('seamwatch_event_errors_total{source="billing",class="transient"} 1');
    expect(metrics).toContain('seamwatch_event_errors_total{source="billing",class="permanent"} 1');
  });
});
