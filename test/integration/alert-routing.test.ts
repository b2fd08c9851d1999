import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Message, Producer } from 'kafkajs';
import { parseConfigText } from '../../src/config/load.ts';
import { Seamwatch } from '../../src/app.ts';
import type { WebhookPayload } from '../../src/alerts/receivers/webhook-payload.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { PagerDutyContractServer } from '../support/pagerduty-server.ts';
import { cloudEvent, scenarioConfig, T0, type ScenarioTopics } from '../support/scenario.ts';
import { SCENARIO_ALERTS, SCENARIO_DETECTORS, alertScenario, heartbeats, webhook } from '../support/alert-scenario.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, createTopics, groupLag, kafka, requireServices, store, unique, waitFor } from '../support/services.ts';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;

/** Mutating the silences API needs a bearer token from the environment variable the config names. */
const API_TOKEN = 'seamwatch-test-token';
process.env['SEAMWATCH_API_TOKEN'] = API_TOKEN;

/** A PagerDuty integration key is 32 characters; the contract server checks it. */
const BILLING_KEY = 'b'.repeat(32);
const SUPPORT_KEY = 's'.repeat(32);
const ENV = { SEAMWATCH_PD_KEY_BILLING: BILLING_KEY, SEAMWATCH_PD_KEY_SUPPORT: SUPPORT_KEY };

const routing = (pagerDutyUrl: string, webhookUrl: string) => `
${SCENARIO_DETECTORS}receivers:
  - name: billing-pager
    pagerduty: { routingKeyEnv: SEAMWATCH_PD_KEY_BILLING, url: "${pagerDutyUrl}" }
  - name: support-pager
    pagerduty: { routingKeyEnv: SEAMWATCH_PD_KEY_SUPPORT, url: "${pagerDutyUrl}" }
  - name: support-hook
    webhook: { url: "${webhookUrl}" }
routes:
  receiver: support-hook
  group_by: [team, detector]
  group_wait: 100ms
  group_interval: 200ms
  routes:
    - { matchers: ['team="billing-platform"'], receiver: billing-pager }
    - { matchers: ['team="support-ops"'], receiver: support-pager, continue: true }
    - { matchers: ['team="support-ops"'], receiver: support-hook }
`;

interface ApiAlert {
  fingerprint: string;
  state: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

describe('alert routing to PagerDuty and a webhook on real Kafka and ClickHouse', () => {
  const id = unique('routing');
  const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  const all = Object.values(topics);
  const pagerDuty = new PagerDutyContractServer();
  const hooks: WebhookPayload[] = [];
  let hookServer: Server;
  let admin: Admin;
  let producer: Producer;
  let app: Seamwatch;
  let configText = '';

  const alerts = async (): Promise<ApiAlert[]> => ((await (await fetch(`http://127.0.0.1:${app.http.port}/api/v1/alerts`)).json()) as { alerts: ApiAlert[] }).alerts;
  const describeAlerts = async () => (await alerts()).map((a) => `${a.labels['detector']} ${a.annotations['correlation_id'] ?? a.annotations['business_key'] ?? ''} ${a.state}`).sort();
  const accepted = (routingKey: string) =>
    pagerDuty
      .accepted()
      .map((r) => r.body as { event_action: string; dedup_key: string; routing_key: string })
      .filter((e) => e.routing_key === routingKey);
  const triggers = () => accepted(BILLING_KEY).filter((e) => e.event_action === 'trigger');
  const support = () => accepted(SUPPORT_KEY).map((e) => `${e.event_action} ${e.dedup_key}`);
  const send = async (byTopic: Map<string, Message[]>) => {
    for (const [topic, messages] of byTopic) await producer.send({ topic, messages });
  };

  beforeAll(async () => {
    await requireServices();
    await pagerDuty.start();
    hookServer = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        hooks.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookPayload);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => hookServer.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/seamwatch`;
    admin = kafka().admin();
    await admin.connect();
    await createTopics(admin, all);
    producer = kafka().producer();
    await producer.connect();
    configText = scenarioConfig(topics, { database: id, groupId: `${id}-group`, brokers: KAFKA_BROKERS, clickhouseUrl: CLICKHOUSE_URL, slos: routing(pagerDuty.url, hookUrl) });
    app = new Seamwatch({ config: parseConfigText(configText, 'test', ENV), logger: silentLogger() });
    await app.start();
  });

  afterAll(async () => {
    await app?.shutdown();
    await producer?.disconnect();
    await pagerDuty.close();
    await new Promise<void>((resolve) => (hookServer ? hookServer.close(() => resolve()) : resolve()));
    const ch = store(id);
    await ch.command(`DROP DATABASE IF EXISTS ${id}`);
    await ch.shutdown();
    await admin?.deleteTopics({ topics: [...all, ...all.map((t) => `${t}.dlq`)] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('pages billing once per real problem (a 500 retried), none for redeliveries or a healed 429, and tells the support webhook a stuck ticket fired and resolved', async () => {
    // PagerDuty's first answer is a 500: the notifier retries it.
    pagerDuty.script([{ status: 500 }]);
    await send(alertScenario(topics));
    await send(heartbeats(topics, T0 + 5 * H));
    const expected = SCENARIO_ALERTS;
    await waitFor('the alerts', async () => JSON.stringify(await describeAlerts()) === JSON.stringify(expected), 60_000).catch(async () => {
      expect(await describeAlerts()).toEqual(expected);
    });
    // Alerts come from the pipeline before its offsets are committed: wait for the commit.
    await waitFor('every message committed', async () => (await groupLag(admin, `${id}-group`, all)) === 0, 30_000);

    const billingAlerts = (await alerts()).filter((a) => a.labels['team'] === 'billing-platform');
    expect(billingAlerts).toHaveLength(4);
    // One run, one page (alerting.runPrecedence): up-fail failed partway, so it is paged as a
    // partial failure and not again as a missed deadline — which is still listed above.
    const billing = billingAlerts.filter((a) => !(a.labels['detector'] === 'upgrade-late' && a.annotations['correlation_id'] === 'up-fail')).map((a) => a.fingerprint).sort();
    expect(billing).toHaveLength(3);
    await waitFor('a trigger per billing alert', async () => new Set(triggers().map((t) => t.dedup_key)).size === billing.length, 30_000).catch(() => undefined);
    // Give a second trigger (a repeat, a retry gone wrong) the chance to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(triggers().map((t) => t.dedup_key).sort()).toEqual(billing);
    expect(triggers().every((t) => t.routing_key === BILLING_KEY)).toBe(true);
    const failed = pagerDuty.requests.filter((r) => r.status === 500);
    expect(failed).toHaveLength(1);
    const retried = (failed[0]!.body as { dedup_key: string }).dedup_key;
    expect(billing).toContain(retried);
    expect(pagerDuty.incident(retried)).toMatchObject({ state: 'triggered', alertsOpened: 1 });
    // Nothing from billing went to the webhook, and only the stuck ticket did.
    expect(hooks.flatMap((h) => h.alerts.map((a) => `${a.labels['detector']} ${a.status}`))).toEqual(['stuck-ticket firing']);

    await send(new Map([[topics.ticketing, [cloudEvent('ticketing', 'ticket.updated', 'tk-stuck-upd', 'tk-stuck', T0 + 5 * H + M, false)]]]));
    await waitFor('the webhook to hear the stuck ticket resolve', async () => hooks.length >= 2, 30_000);
    const [firing, resolved] = hooks;
    expect(firing).toMatchObject({ version: '4', status: 'firing', receiver: 'support-hook', groupLabels: { team: 'support-ops', detector: 'stuck-ticket' }, commonLabels: { team: 'support-ops', detector: 'stuck-ticket' }, externalURL: 'http://127.0.0.1:9470' });
    expect(firing!.groupKey).toContain('team="support-ops"');
    expect(firing!.alerts).toEqual([
      expect.objectContaining({ status: 'firing', endsAt: '0001-01-01T00:00:00Z', startsAt: new Date(T0 + 4 * H).toISOString(), annotations: expect.objectContaining({ correlation_id: 'tk-stuck' }), generatorURL: expect.stringContaining('tk-stuck') }),
    ]);
    expect(resolved).toMatchObject({ status: 'resolved', groupKey: firing!.groupKey, alerts: [{ status: 'resolved', fingerprint: firing!.alerts[0]!.fingerprint }] });
    expect(Date.parse(resolved!.alerts[0]!.endsAt)).toBeGreaterThan(T0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(hooks).toHaveLength(2);
    // Still exactly one trigger per billing problem, and no resolve (none of them resolved).
    expect(triggers()).toHaveLength(3);
    expect(accepted(BILLING_KEY).filter((e) => e.event_action === 'resolve')).toEqual([]);
    // Support's PagerDuty service had the stuck ticket too (the route continues to the webhook):
    // one trigger, then one resolve when the ticket moved.
    const stuck = firing!.alerts[0]!.fingerprint;
    await waitFor('support PagerDuty to resolve the stuck ticket', async () => support().length >= 2, 30_000);
    expect(support()).toEqual([`trigger ${stuck}`, `resolve ${stuck}`]);
  });

  it('after a restart pages nothing twice, remembers the duplicates it saw, and still resolves what it paged', async () => {
    // The first ticket is closed (else it would be stuck again 4h after its update); a second
    // ticket gets stuck and is reported before the restart.
    await send(
      new Map([
        [
          topics.ticketing,
          [
            cloudEvent('ticketing', 'ticket.resolved', 'tk-stuck-res', 'tk-stuck', T0 + 5 * H + M + S, false),
            cloudEvent('ticketing', 'ticket.opened', 'tk-two-open', 'tk-two', T0 + 5 * H + 2 * M, false),
          ],
        ],
      ]),
    );
    await send(heartbeats(topics, T0 + 10 * H));
    await waitFor('the webhook to hear the second stuck ticket', async () => hooks.length >= 3, 30_000);
    await waitFor('every message committed', async () => (await groupLag(admin, `${id}-group`, all)) === 0, 30_000);
    const triggersBefore = triggers().length;

    // A maintenance silence made through the API before the restart.
    const created = await fetch(`http://127.0.0.1:${app.http.port}/api/v1/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
      body: JSON.stringify({ matchers: ['team="nobody"'], duration: '2h', createdBy: 'ops@example.com', comment: 'maintenance' }),
    });
    expect(created.status).toBe(201);
    const silenceId = ((await created.json()) as { id: string }).id;
    await app.alertState.persistence.save();

    await app.shutdown();
    app = new Seamwatch({ config: parseConfigText(configText, 'test', ENV), logger: silentLogger() });
    await app.start();
    const silences = (await (await fetch(`http://127.0.0.1:${app.http.port}/api/v1/silences`)).json()) as { silences: { id: string; comment: string }[] };
    expect(silences.silences.map((x) => [x.id, x.comment])).toEqual([[silenceId, 'maintenance']]);
    // The restored alerts are the ones that were firing: each comes back with its partition.
    const restored = [
      'charged-not-entitled up-fail firing',
      'duplicate-invoice bill-2 firing',
      'stuck-ticket tk-two firing',
      'upgrade-late up-fail firing',
      'upgrade-late up-missing firing',
    ];
    await waitFor('the restored alerts', async () => JSON.stringify((await describeAlerts()).filter((a) => a.endsWith('firing'))) === JSON.stringify(restored), 20_000).catch(() => undefined);
    expect((await describeAlerts()).filter((a) => a.endsWith('firing'))).toEqual([
      'charged-not-entitled up-fail firing',
      'duplicate-invoice bill-2 firing',
      'stuck-ticket tk-two firing',
      'upgrade-late up-fail firing',
      'upgrade-late up-missing firing',
    ]);

    // A redelivered duplicate and a third invoice for the same account and period: the same problem.
    await send(
      new Map([
        [
          topics.billing,
          [
            webhook('invoice.created', 'evt_b', 'bill-2', T0 + 5 * M, { account_id: 'acct-1', billing_period: '2026-11' }),
            webhook('invoice.created', 'evt_d', 'bill-4', T0 + 10 * H + M, { account_id: 'acct-1', billing_period: '2026-11' }),
          ],
        ],
        [topics.ticketing, [cloudEvent('ticketing', 'ticket.updated', 'tk-two-upd', 'tk-two', T0 + 10 * H + 2 * M, false)]],
      ]),
    );
    await waitFor('the webhook to hear the second stuck ticket resolve after the restart', async () => hooks.length >= 4, 30_000);
    expect(hooks[3]).toMatchObject({ status: 'resolved', alerts: [{ status: 'resolved', fingerprint: hooks[2]!.alerts[0]!.fingerprint }] });
    await waitFor('every message committed', async () => (await groupLag(admin, `${id}-group`, all)) === 0, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(triggers()).toHaveLength(triggersBefore);
    expect(new Set(triggers().map((t) => t.dedup_key)).size).toBe(3);
    // The second stuck ticket: triggered before the restart, resolved after it, once each.
    const two = hooks[2]!.alerts[0]!.fingerprint;
    await waitFor('support PagerDuty to resolve the second ticket', async () => support().includes(`resolve ${two}`), 30_000);
    expect(support().filter((e) => e.endsWith(two))).toEqual([`trigger ${two}`, `resolve ${two}`]);
    expect(hooks).toHaveLength(4);
  });
});
