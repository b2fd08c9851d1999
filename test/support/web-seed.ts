import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfigText } from '../../src/config/load.ts';
import { Seamwatch } from '../../src/app.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { PagerDutyContractServer } from './pagerduty-server.ts';
import { CLICKHOUSE_URL, requireServices, store, unique, waitFor } from './services.ts';

/**
 * A live seamwatch for the web view's browser tests: HTTP sources (no Kafka), the ClickHouse
 * server, and three hours of plan upgrades and tickets played through the real intake, so the
 * store, the SLO engine, the detectors and the routing all hold what they would in production.
 * Hostile strings ride in a correlation ID, in event data, in a dead letter's raw bytes, in an
 * alert's annotations and in a silence, for the tests that check they render inert.
 */

const S = 1_000;
const M = 60 * S;

/** Payloads that would run or inject markup if anything rendered them as HTML. */
export const HOSTILE = {
  correlationId: `<img src=x onerror="window.__pwned=1">"'><script>window.__pwned=2</script>`,
  data: '<b>bold?</b><script>window.__pwned=3</script><img src=x onerror="window.__pwned=4">',
  deadLetter: '<script>window.__pwned=5</script><iframe src="javascript:window.__pwned=6"></iframe>',
  silenceComment: '<script>window.__pwned=7</script>deploy',
};

/** The run whose waterfall the tests check step by step: a 429 retried, the invoice webhook delivered twice, then late entitlement. */
export const RETRIED_LATE = 'up-7';

export const UPGRADES = 60;

export interface WebSeed {
  app: Seamwatch;
  /** The API and web view. */
  base: string;
  token: string;
  pagerDuty: PagerDutyContractServer;
  close(): Promise<void>;
}

function configText(database: string, tokenEnv: string, pagerDutyUrl: string, hookUrl: string): string {
  return `
sources:
  - { name: crm, transport: http }
  - { name: billing, transport: http }
  - { name: ticketing, transport: http }
workflows:
  - name: plan-upgrade
    owner: billing-platform
    trigger: { source: crm, type: subscription.upgraded }
    steps:
      - { name: invoice-updated, source: billing, type: invoice.updated, failOn: [invoice.update_failed] }
      - { name: entitlement-activated, source: billing, type: entitlement.activated, failOn: [entitlement.failed] }
      - { name: ticket-tagged, source: ticketing, type: ticket.tagged, required: false }
    compensation:
      - { name: upgrade-reverted, source: crm, type: subscription.upgrade_reverted }
    deadline: 5m
  - name: support-ticket
    owner: support-ops
    trigger: { source: ticketing, type: ticket.opened }
    steps:
      - { name: triaged, source: ticketing, type: ticket.triaged }
      - { name: resolved, source: ticketing, type: ticket.resolved }
    deadline: 1d
slos:
  - name: upgrade-sync-5m
    workflow: plan-upgrade
    description: Billing and entitlements are in sync within five minutes of a plan upgrade.
    objective: 99%
    window: 28d
    indicator: { completed-within: 5m, steps: [invoice-updated, entitlement-activated] }
  - name: ticket-resolution
    workflow: support-ticket
    objective: 95%
    window: 7d
    indicator: { success-ratio: {} }
detectors:
  missedDeadlines:
    - { name: upgrade-late, workflow: plan-upgrade, impact: "the customer pays for a plan they cannot use yet" }
alerting: { pendingFor: 0s, keepFiringFor: 0s }
receivers:
  - name: billing-pager
    pagerduty: { routingKeyEnv: SEAMWATCH_WEB_TEST_PD_KEY, url: "${pagerDutyUrl}" }
  - name: support-hook
    webhook: { url: "${hookUrl}" }
routes:
  receiver: support-hook
  group_by: [team, detector]
  group_wait: 100ms
  group_interval: 200ms
  routes:
    - { matchers: ['team="billing-platform"'], receiver: billing-pager }
api: { tokenEnv: ${tokenEnv} }
store:
  clickhouse: { url: "${CLICKHOUSE_URL}", database: ${database} }
pipeline: { flushInterval: 100ms, idleAdvanceAfter: 1s, sloEvaluateEvery: 200ms, allowedLateness: 15m }
httpIntake: { port: 0 }
http: { port: 0 }
`;
}

interface Ce {
  id: string;
  source: string;
  type: string;
  correlationid: string;
  time: number;
  data?: unknown;
  errorcode?: string;
  errorclass?: string;
  errormessage?: string;
}

/** Every event of the seeded business, oldest first. T0 is three hours before now, on a minute. */
export function seedEvents(t0: number): Ce[] {
  const out: Ce[] = [];
  const ev = (source: string, type: string, id: string, c: string, time: number, extra: Partial<Ce> = {}) => out.push({ id, source, type, correlationid: c, time, data: { account: `acct-${c}` }, ...extra });
  for (let i = 0; i < UPGRADES; i++) {
    const c = `up-${i}`;
    const t = t0 + i * 2 * M;
    ev('crm', 'subscription.upgraded', `crm-${c}`, c, t, { data: { account: `acct-${i}`, plan: 'pro' } });
    if (i % 15 === 3) {
      // Billing failed for good: the run fails, and misses its SLO.
      ev('billing', 'invoice.update_failed', `inv-f-${c}`, c, t + 10 * S, { errorcode: '500', errorclass: 'server', errormessage: 'upstream error' });
      continue;
    }
    if (i === 20) {
      ev('billing', 'invoice.update_failed', `inv-f-${c}`, c, t + 10 * S, { errorcode: 'card_declined', errorclass: 'permanent' });
      ev('crm', 'subscription.upgrade_reverted', `rev-${c}`, c, t + 2 * M);
      continue;
    }
    if (i % 15 === 7) {
      // A 429 that a retry healed: marked on the waterfall, not a failure.
      ev('billing', 'invoice.update_failed', `inv-f-${c}`, c, t + 5 * S, { errorcode: '429', errorclass: 'rate_limited', errormessage: 'slow down' });
      ev('billing', 'invoice.updated', `inv-${c}`, c, t + 25 * S);
    } else {
      ev('billing', 'invoice.updated', `inv-${c}`, c, t + 10 * S);
    }
    // Every tenth upgrade syncs late; the second to last never gets its entitlement.
    if (i === UPGRADES - 2) continue;
    ev('billing', 'entitlement.activated', `ent-${c}`, c, t + (i % 10 === 7 ? 7 * M : 20 * S));
    if (i % 2 === 0) ev('ticketing', 'ticket.tagged', `tag-${c}`, c, t + 40 * S);
  }
  // The hostile run: triggered, invoiced, never entitled, so it misses its deadline and alerts.
  const h = HOSTILE.correlationId;
  ev('crm', 'subscription.upgraded', 'crm-hostile', h, t0 + 100 * M, { data: { note: HOSTILE.data } });
  ev('billing', 'invoice.updated', 'inv-hostile', h, t0 + 100 * M + 10 * S, { data: { note: HOSTILE.data } });
  for (let i = 0; i < 6; i++) {
    const c = `tk-${i}`;
    const t = t0 + 10 * M + i * 20 * M;
    ev('ticketing', 'ticket.opened', `open-${c}`, c, t);
    ev('ticketing', 'ticket.triaged', `tri-${c}`, c, t + 5 * M);
    if (i !== 4) ev('ticketing', 'ticket.resolved', `res-${c}`, c, t + 40 * M);
  }
  // Event time moves to now: every deadline above has passed.
  ev('crm', 'seamwatch.heartbeat', 'hb', 'hb', t0 + 3 * 60 * M - 30 * S);
  return out.sort((a, b) => a.time - b.time);
}

export async function startWebSeed(): Promise<WebSeed> {
  await requireServices();
  const id = unique('webview');
  const tokenEnv = `SEAMWATCH_WEB_TEST_TOKEN_${id.toUpperCase()}`;
  const token = `token-${id}`;
  process.env[tokenEnv] = token;
  process.env['SEAMWATCH_WEB_TEST_PD_KEY'] = 'w'.repeat(32);
  const pagerDuty = new PagerDutyContractServer();
  await pagerDuty.start();
  const hook: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end());
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  const config = parseConfigText(configText(id, tokenEnv, pagerDuty.url, hookUrl), 'web-seed', process.env);
  const app = new Seamwatch({ config, logger: silentLogger() });
  await app.start();
  const base = `http://127.0.0.1:${app.http.port}`;
  const intake = `http://127.0.0.1:${app.httpCollector!.port}`;

  const t0 = Math.floor((Date.now() - 3 * 60 * M) / M) * M;
  const events = seedEvents(t0);
  // Played as the systems would send them: ten minutes at a time, each system's events of those
  // minutes in one batch. Event time stays within allowedLateness (15m), so no step is judged late.
  for (let from = t0; from <= t0 + 3 * 60 * M; from += 10 * M) {
    for (const source of ['crm', 'billing', 'ticketing']) {
      const batch = events
        .filter((e) => e.source === source && e.time >= from && e.time < from + 10 * M)
        .map(({ time, ...e }) => ({ specversion: '1.0', datacontenttype: 'application/json', time: new Date(time).toISOString(), ...e }));
      if (batch.length === 0) continue;
      const res = await fetch(`${intake}/ingest/${source}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json' }, body: JSON.stringify(batch) });
      if (res.status !== 202) throw new Error(`seeding ${source}: ${res.status} ${await res.text()}`);
      // The billing provider did not see that answer and sends the invoice webhook again.
      const again = batch.find((e) => e.id === `inv-${RETRIED_LATE}`);
      if (again) {
        const retry = await fetch(`${intake}/ingest/${source}`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(again) });
        if (retry.status !== 202) throw new Error(`redelivery: ${retry.status} ${await retry.text()}`);
      }
    }
  }
  // Two messages that cannot become events: dead letters with their raw bytes.
  for (const body of [HOSTILE.deadLetter, '{"specversion":"1.0","id":"x","type":"t"}']) {
    const res = await fetch(`${intake}/ingest/crm`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body });
    if (res.status !== 400) throw new Error(`dead letter: expected 400, got ${res.status}`);
  }
  const silence = await fetch(`${base}/api/v1/silences`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ matchers: ['team="support-ops"'], duration: '4h', createdBy: 'ana@example.com', comment: HOSTILE.silenceComment }),
  });
  if (silence.status !== 201) throw new Error(`silence: ${silence.status} ${await silence.text()}`);

  const json = async <T>(path: string) => (await (await fetch(`${base}${path}`)).json()) as T;
  await waitFor(
    'every SLO evaluated up to the seeded traffic, and both missed deadlines firing',
    async () => {
      const { slos } = await json<{ slos: { name: string; runs?: { total: number } }[] }>('/api/v1/slos');
      const { alerts } = await json<{ alerts: { state: string; annotations: Record<string, string> }[] }>('/api/v1/alerts?state=firing');
      const late = alerts.filter((a) => a.annotations['correlation_id'] === HOSTILE.correlationId || a.annotations['correlation_id'] === `up-${UPGRADES - 2}`);
      return slos.find((s) => s.name === 'upgrade-sync-5m')?.runs?.total === UPGRADES + 1 && slos.every((s) => s.runs !== undefined) && late.length === 2;
    },
    60_000,
  );
  await waitFor('PagerDuty to be told of the missed deadlines', async () => pagerDuty.accepted().length > 0, 30_000);

  return {
    app,
    base,
    token,
    pagerDuty,
    close: async () => {
      await app.shutdown();
      await pagerDuty.close();
      await new Promise<void>((resolve) => hook.close(() => resolve()));
      delete process.env[tokenEnv];
      const ch = store(id);
      await ch.command(`DROP DATABASE IF EXISTS ${id}`);
      await ch.shutdown();
    },
  };
}
