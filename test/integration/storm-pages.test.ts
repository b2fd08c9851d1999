import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Message, Producer } from 'kafkajs';
import { parseConfigText } from '../../src/config/load.ts';
import { Seamwatch } from '../../src/app.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { PagerDutyContractServer } from '../support/pagerduty-server.ts';
import { cloudEvent, scenarioConfig, T0, type ScenarioTopics } from '../support/scenario.ts';
import { heartbeats, webhook } from '../support/alert-scenario.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, createTopics, kafka, requireServices, store, unique, waitFor } from '../support/services.ts';

const S = 1_000;
const M = 60 * S;
const KEY = 'b'.repeat(32);
const STORM = 8;

/** Billing is down: eight upgrades miss their deadline together; one other run fails partway on its own. */
const CONFIG = (pagerDutyUrl: string) => `
detectors:
  partialFailures:
    - { name: charged-not-entitled, workflow: plan-upgrade, irreversible: [invoice-updated] }
  missedDeadlines:
    - { name: upgrade-late, workflow: plan-upgrade }
alerting: { keepFiringFor: 0s }
receivers:
  - name: billing-pager
    pagerduty: { routingKeyEnv: SEAMWATCH_PD_KEY_BILLING, url: "${pagerDutyUrl}", storm: { threshold: 5, examples: 3 } }
routes:
  receiver: billing-pager
`;

describe('a systemic failure is one PagerDuty incident, on real Kafka and ClickHouse', () => {
  const id = unique('storm');
  const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  const all = Object.values(topics);
  const pagerDuty = new PagerDutyContractServer();
  let admin: Admin;
  let producer: Producer;
  let app: Seamwatch;

  const events = () => pagerDuty.accepted().map((r) => r.body as { event_action: string; dedup_key: string; payload?: { summary: string; custom_details: Record<string, unknown> }; links?: { href: string }[] });
  const send = async (byTopic: Map<string, Message[]>) => {
    for (const [topic, messages] of byTopic) await producer.send({ topic, messages });
  };
  const alerts = async () =>
    ((await (await fetch(`http://127.0.0.1:${app.http.port}/api/v1/alerts?state=firing`)).json()) as { alerts: { fingerprint: string; labels: Record<string, string>; annotations: Record<string, string> }[] }).alerts;

  beforeAll(async () => {
    await requireServices();
    await pagerDuty.start();
    admin = kafka().admin();
    await admin.connect();
    await createTopics(admin, all);
    producer = kafka().producer();
    await producer.connect();
    const text = scenarioConfig(topics, { database: id, groupId: `${id}-group`, brokers: KAFKA_BROKERS, clickhouseUrl: CLICKHOUSE_URL, slos: CONFIG(pagerDuty.url) });
    app = new Seamwatch({ config: parseConfigText(text, 'test', { SEAMWATCH_PD_KEY_BILLING: KEY }), logger: silentLogger() });
    await app.start();
  });

  afterAll(async () => {
    await app?.shutdown();
    await producer?.disconnect();
    await pagerDuty.close();
    const ch = store(id);
    await ch.command(`DROP DATABASE IF EXISTS ${id}`);
    await ch.shutdown();
    await admin?.deleteTopics({ topics: [...all, ...all.map((t) => `${t}.dlq`)] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('pages the storm once with its count, examples and link, pages a lone problem on its own, and resolves the storm when it is over', async () => {
    const runs = Array.from({ length: STORM }, (_, i) => `up-storm-${i}`);
    await send(
      new Map([
        [topics.crm, [...runs.map((c, i) => cloudEvent('crm', 'subscription.upgraded', `crm-${c}`, c, T0 + i * S, false)), cloudEvent('crm', 'subscription.upgraded', 'crm-up-fail', 'up-fail', T0, false)]],
        [topics.billing, [webhook('invoice.updated', 'inv-fail', 'up-fail', T0 + 10 * S), webhook('entitlement.failed', 'entf-fail', 'up-fail', T0 + 15 * S, { last_error: { code: 'card_declined' } })]],
      ]),
    );
    await send(heartbeats(topics, T0 + 10 * M));

    await waitFor('every missed deadline listed', async () => (await alerts()).filter((a) => a.labels['detector'] === 'upgrade-late').length === STORM + 1, 60_000);
    await waitFor('the storm incident', async () => events().some((e) => e.dedup_key.startsWith('storm-') && e.payload?.custom_details['count'] === STORM), 30_000);
    await new Promise((r) => setTimeout(r, 2_000));

    const listed = await alerts();
    const late = new Set(listed.filter((a) => a.labels['detector'] === 'upgrade-late').map((a) => a.fingerprint));
    const triggers = events().filter((e) => e.event_action === 'trigger');
    // No incident for any missed deadline of its own: the eight are one storm, up-fail's is held back by its partial failure.
    expect(triggers.filter((t) => late.has(t.dedup_key))).toEqual([]);
    const stormKeys = new Set(triggers.filter((t) => t.dedup_key.startsWith('storm-')).map((t) => t.dedup_key));
    expect(stormKeys.size).toBe(1);
    const last = triggers.filter((t) => t.dedup_key.startsWith('storm-')).at(-1)!;
    expect(last.payload!.summary).toMatch(/^8 × upgrade-late on plan-upgrade at once: /);
    expect(last.payload!.custom_details).toMatchObject({ count: STORM, paged_on_their_own: 0, examples: 'up-storm-0, up-storm-1, up-storm-2' });
    expect(last.links?.[0]?.href).toBe('http://127.0.0.1:9470/api/v1/alerts?state=firing&detector=upgrade-late&workflow=plan-upgrade');
    expect(pagerDuty.incident([...stormKeys][0]!)).toMatchObject({ state: 'triggered' });
    // The lone problem of another detector: an incident of its own.
    const partial = listed.find((a) => a.labels['detector'] === 'charged-not-entitled')!;
    expect(triggers.filter((t) => t.dedup_key === partial.fingerprint)).toHaveLength(1);

    // Billing is back: every stormed upgrade completes; the storm resolves once.
    await send(
      new Map([[topics.billing, runs.flatMap((c, i) => [webhook('invoice.updated', `inv-${c}`, c, T0 + 10 * M + i * S), webhook('entitlement.activated', `ent-${c}`, c, T0 + 10 * M + i * S + 1)])]]),
    );
    await send(heartbeats(topics, T0 + 20 * M));
    await waitFor('the storm to resolve', async () => events().some((e) => e.event_action === 'resolve' && stormKeys.has(e.dedup_key)), 60_000);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(events().filter((e) => e.event_action === 'resolve').map((e) => e.dedup_key)).toEqual([...stormKeys]);
    expect(pagerDuty.incident([...stormKeys][0]!)).toMatchObject({ state: 'resolved' });
  });
});
