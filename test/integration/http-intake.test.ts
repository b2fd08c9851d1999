import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.ts';
import { Seamwatch } from '../../src/app.ts';
import { sign } from '../../src/collectors/http/signature.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { CLICKHOUSE_URL, store, unique, waitFor } from '../support/services.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

const SECRET = 'whsec_integration';

function configText(database: string, clickhouseUrl: string, secretEnv: string): string {
  return `
sources:
  - name: crm
    transport: http
  - name: ticketing
    transport: http
  - name: billing
    transport: http
    format: mapped
    mapping:
      id: { path: id }
      type: { path: type }
      time: { path: created, format: unix-s }
      correlationid: { path: data.object.metadata.correlation_id }
      data: { path: data.object }
    http:
      path: /webhooks/billing
      signature: { header: Billing-Signature, secretEnv: ${secretEnv}, tolerance: 5m }
workflows:
  - name: plan-upgrade
    owner: billing-platform
    trigger: { source: crm, type: subscription.upgraded }
    steps:
      - { name: invoice-updated, source: billing, type: invoice.updated }
      - { name: entitlement-activated, source: billing, type: entitlement.activated }
      - { name: ticket-tagged, source: ticketing, type: ticket.tagged, required: false }
    deadline: 5m
store:
  clickhouse: { url: "${clickhouseUrl}", database: ${database} }
pipeline: { flushInterval: 100ms, idleAdvanceAfter: 2s }
httpIntake: { port: 0, ackTimeout: 2s, retryAfter: 3s, maxBodyBytes: 4096 }
http: { port: 0 }
`;
}

describe('HTTP intake with no Kafka, on the real ClickHouse', () => {
  const id = unique('httpin');
  const secretEnv = `SEAMWATCH_TEST_SECRET_${id.toUpperCase()}`;
  const ch = store(id);
  let proxy: TcpProxy;
  let app: Seamwatch;
  let base = '';
  const at = Date.now() - 60_000;
  const iso = (offset: number) => new Date(at + offset).toISOString();

  const ce = (idv: string, source: string, type: string, c: string, offset: number) => ({ specversion: '1.0', id: idv, source, type, correlationid: c, time: iso(offset), data: {} });
  const webhook = (idv: string, type: string, c: string, offset: number) =>
    JSON.stringify({ id: idv, type, created: Math.floor((at + offset) / 1000), data: { object: { metadata: { correlation_id: c } } } });
  const signed = (body: string, t = Math.floor(Date.now() / 1000)) => ({
    'content-type': 'application/json',
    'billing-signature': `t=${t},v1=${sign(SECRET, String(t), Buffer.from(body)).toString('hex')}`,
  });
  const post = (path: string, headers: Record<string, string>, body: string) => fetch(`${base}${path}`, { method: 'POST', headers, body });
  const count = async (sql: string) => Number((await ch.rows<{ n: string }>(sql))[0]!.n);
  const runState = async (c: string) =>
    (await ch.rows<{ s: string }>(`SELECT argMax(state, version) AS s FROM ${id}.runs WHERE correlation_id = '${c}'`))[0]?.s;
  const metric = async (line: RegExp) => {
    const text = await (await fetch(`http://127.0.0.1:${app.http.port}/metrics`)).text();
    return Number(new RegExp(`^${line.source} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  };

  beforeAll(async () => {
    const ping = await fetch(`${CLICKHOUSE_URL}/ping`).then((r) => r.text()).catch((e: unknown) => String(e));
    if (!ping.startsWith('Ok')) throw new Error(`ClickHouse is not answering at ${CLICKHOUSE_URL} (${ping}); run: bash deploy/local/services.sh up`);
    const target = new URL(CLICKHOUSE_URL);
    proxy = new TcpProxy({ host: target.hostname, port: Number(target.port) });
    await proxy.start();
    process.env[secretEnv] = SECRET;
    const config = parseConfigText(configText(id, `http://127.0.0.1:${proxy.port}`, secretEnv), 'test', process.env);
    expect(config.kafka).toBeUndefined();
    app = new Seamwatch({ config, logger: silentLogger() });
    await app.start();
    expect(app.collector).toBeUndefined();
    base = `http://127.0.0.1:${app.httpCollector!.port}`;
  });

  afterAll(async () => {
    await app?.shutdown();
    await proxy?.stop();
    delete process.env[secretEnv];
    await ch.command(`DROP DATABASE IF EXISTS ${id}`);
    await ch.shutdown();
  });

  it('stores structured, binary, batched and signed deliveries before answering 202, and the runs complete', async () => {
    const structured = await post('/ingest/crm', { 'content-type': 'application/cloudevents+json' }, JSON.stringify(ce('crm-1', 'crm', 'subscription.upgraded', 'c-1', 0)));
    expect([structured.status, await structured.json()]).toEqual([202, { accepted: 1 }]);
    // 202 means stored: the event is in ClickHouse now, not after some later flush.
    expect(await count(`SELECT count() AS n FROM ${id}.events WHERE event_id = 'crm-1'`)).toBe(1);

    const batch = await post('/ingest/crm', { 'content-type': 'application/cloudevents-batch+json' }, JSON.stringify([ce('crm-2', 'crm', 'subscription.upgraded', 'c-2', 0), ce('crm-3', 'crm', 'subscription.upgraded', 'c-3', 0)]));
    expect([batch.status, await batch.json()]).toEqual([202, { accepted: 2 }]);

    const binary = await post(
      '/ingest/ticketing',
      { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': 'tkt-1', 'ce-source': 'ticketing', 'ce-type': 'ticket.tagged', 'ce-correlationid': 'c-1', 'ce-time': iso(1_000) },
      '{"tag":"upgrade"}',
    );
    expect(binary.status).toBe(202);

    for (const [idv, type, c, offset] of [
      ['evt_inv_1', 'invoice.updated', 'c-1', 2_000],
      ['evt_ent_1', 'entitlement.activated', 'c-1', 3_000],
      ['evt_inv_2', 'invoice.updated', 'c-2', 2_000],
      ['evt_ent_2', 'entitlement.activated', 'c-2', 3_000],
    ] as const) {
      const body = webhook(idv, type, c, offset);
      const res = await post('/webhooks/billing', signed(body), body);
      expect(res.status).toBe(202);
    }
    expect(await count(`SELECT uniqExact(source, event_id) AS n FROM ${id}.events`)).toBe(8);
    await waitFor('runs c-1 and c-2 completed', async () => (await runState('c-1')) === 'completed' && (await runState('c-2')) === 'completed', 20_000);
    expect(await runState('c-3')).toBe('open');
    const [origin] = await ch.rows<{ topic: string; partition: number }>(`SELECT topic, partition FROM ${id}.events WHERE event_id = 'evt_inv_1'`);
    expect(origin).toEqual({ topic: 'http:billing', partition: 0 });
  });

  it('a retried delivery of the same webhook is answered 202 and counted once', async () => {
    const body = webhook('evt_inv_3', 'invoice.updated', 'c-3', 2_000);
    expect((await post('/webhooks/billing', signed(body), body)).status).toBe(202);
    // The provider did not see the first answer and sends again, signed anew.
    expect((await post('/webhooks/billing', signed(body, Math.floor(Date.now() / 1000) + 1), body)).status).toBe(202);
    expect(await count(`SELECT count() AS n FROM ${id}.events WHERE event_id = 'evt_inv_3'`)).toBe(1);
  });

  it('refuses an undecodable body with 400 and keeps it as a dead letter with the reason', async () => {
    const res = await post('/ingest/crm', { 'content-type': 'application/cloudevents+json' }, '{"this is": not json');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'not-json' });
    const missing = await post('/ingest/crm', { 'content-type': 'application/cloudevents+json' }, JSON.stringify({ specversion: '1.0', id: 'x', source: 'crm', type: 't' }));
    expect([missing.status, await missing.json()]).toEqual([400, { error: 'missing-field', detail: 'no "correlationid" attribute' }]);
    await waitFor('the dead letters stored', async () => (await count(`SELECT count() AS n FROM ${id}.dead_letters WHERE topic = 'http:crm'`)) === 2, 10_000);
    const letters = await ch.rows<{ reason: string; raw_base64: string }>(`SELECT reason, raw_base64 FROM ${id}.dead_letters WHERE topic = 'http:crm' ORDER BY offset`);
    expect([letters[0]!.reason, Buffer.from(letters[0]!.raw_base64, 'base64').toString()]).toEqual(['not-json', '{"this is": not json']);
    expect(letters[1]!.reason).toBe('missing-field');
    expect(await metric(/seamwatch_dead_letters_total\{topic="http:crm",reason="not-json"\}/)).toBe(1);
  });

  it('refuses unsigned, wrongly signed and expired webhooks with 401, and keeps them as dead letters', async () => {
    const body = webhook('evt_forged', 'invoice.updated', 'c-9', 0);
    const unsigned = await post('/webhooks/billing', { 'content-type': 'application/json' }, body);
    expect([unsigned.status, await unsigned.json()]).toEqual([401, { error: 'bad-signature', detail: "no billing-signature header: this source's deliveries must be signed" }]);
    const t = Math.floor(Date.now() / 1000);
    const forged = await post('/webhooks/billing', { 'billing-signature': `t=${t},v1=${sign('guessed', String(t), Buffer.from(body)).toString('hex')}` }, body);
    expect(forged.status).toBe(401);
    const expired = await post('/webhooks/billing', signed(body, t - 3600), body);
    expect(expired.status).toBe(401);
    await waitFor('three bad-signature dead letters', async () => (await count(`SELECT count() AS n FROM ${id}.dead_letters WHERE reason = 'bad-signature'`)) === 3, 10_000);
    expect(await count(`SELECT count() AS n FROM ${id}.events WHERE event_id = 'evt_forged'`)).toBe(0);
  });

  it('refuses a body over the size limit with 413, and an unknown path with 404', async () => {
    const big = await post('/ingest/crm', { 'content-type': 'application/cloudevents+json' }, JSON.stringify({ pad: 'x'.repeat(5_000) }));
    expect([big.status, ((await big.json()) as { error: string }).error]).toEqual([413, 'too-large']);
    expect((await post('/ingest/nowhere', { 'content-type': 'application/json' }, '{}')).status).toBe(404);
  });

  it('a restarted instance owns its HTTP partition from the start: an open run finishes with a step posted after the restart', async () => {
    expect(await runState('c-3')).toBe('open');
    await app.shutdown();
    app = new Seamwatch({ config: parseConfigText(configText(id, `http://127.0.0.1:${proxy.port}`, secretEnv), 'test', process.env), logger: silentLogger() });
    await app.start();
    base = `http://127.0.0.1:${app.httpCollector!.port}`;
    const body = webhook('evt_ent_3', 'entitlement.activated', 'c-3', 3_000);
    expect((await post('/webhooks/billing', signed(body), body)).status).toBe(202);
    await waitFor('run c-3 completed from its stored trigger and invoice', async () => (await runState('c-3')) === 'completed', 20_000);
    // The redelivery after a restart is still known: deduped from what was rebuilt, not stored again.
    const again = webhook('evt_inv_3', 'invoice.updated', 'c-3', 2_000);
    expect((await post('/webhooks/billing', signed(again), again)).status).toBe(202);
    expect(await count(`SELECT count() AS n FROM ${id}.events WHERE event_id = 'evt_inv_3'`)).toBe(1);
  });

  it('answers 503 with Retry-After while the store is down, and loses nothing once it is back', async () => {
    proxy.cut();
    const event = JSON.stringify(ce('crm-down', 'crm', 'subscription.upgraded', 'c-down', 0));
    const headers = { 'content-type': 'application/cloudevents+json' };
    const refused = await post('/ingest/crm', headers, event);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('3');
    expect(((await refused.json()) as { error: string }).error).toBe('store-unavailable');
    proxy.restore();
    // The event was kept: it is written once the store answers again, before any retry.
    await waitFor('the event held while the store was down to be stored', async () => (await count(`SELECT count() AS n FROM ${id}.events WHERE event_id = 'crm-down'`)) === 1, 30_000);
    // The sender's retry is then a redelivery: 202, and still one row.
    expect((await post('/ingest/crm', headers, event)).status).toBe(202);
    expect(await count(`SELECT count() AS n FROM ${id}.events WHERE event_id = 'crm-down'`)).toBe(1);
  });
});
