/**
 * The PagerDuty notifier over real HTTP against the contract server: no mocked fetch. Backoffs
 * are milliseconds here so that the retry paths run in real time.
 */
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PagerDutyNotifier, routingKeyHash, type DeliveryResult, type PagerDutyNotifierOptions } from '../../src/alerts/pagerduty/index.ts';
import type { Alert } from '../../src/alerts/types.ts';
import { PagerDutyContractServer, type RecordedRequest } from '../support/pagerduty-server.ts';

const KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const OTHER_KEY = 'ffffeeeeddddccccbbbbaaaa99998888';
const TARGET = { routingKey: KEY, team: 'billing' };

function alert(fingerprint = 'dup-invoice-acct-7-2024-03', summary = 'ACME was invoiced twice for March 2024'): Alert {
  return {
    fingerprint,
    labels: { severity: 'critical', team: 'billing', workflow: 'plan-upgrade', detector: 'duplicate-invoice' },
    annotations: { summary, correlationId: 'corr-42', businessKey: 'acct-7/2024-03', invoices: '2' },
    state: 'firing',
    startsAt: Date.UTC(2024, 2, 4, 9),
    endsAt: 0,
    generatorUrl: 'http://127.0.0.1:9470/api/v1/traces/corr-42',
  };
}

type LogLine = Record<string, unknown> & { level: number; msg: string };

let server: PagerDutyContractServer;
const notifiers: PagerDutyNotifier[] = [];

beforeEach(async () => {
  server = new PagerDutyContractServer();
  await server.start();
});

afterEach(async () => {
  await Promise.all(notifiers.splice(0).map((n) => n.shutdown()));
  await server.close();
});

function setUp(overrides: Partial<PagerDutyNotifierOptions> = {}) {
  const registry = new Registry();
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  const notifier = new PagerDutyNotifier({
    registry,
    logger,
    url: server.url,
    requestTimeoutMs: 1_000,
    retry: { baseMs: 20, maxMs: 200, deadlineMs: 2_000 },
    shutdownTimeoutMs: 2_000,
    random: () => 1,
    ...overrides,
  });
  notifiers.push(notifier);
  const logs = (msg: string) => lines.filter((l) => l.msg === msg);
  return { notifier, registry, lines, logs };
}

/** seamwatch_pagerduty_events_total as { 'trigger/accepted': n, ... } */
async function counts(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('seamwatch_pagerduty_events_total')!.get();
  return Object.fromEntries(metric.values.map((v) => [`${v.labels.action}/${v.labels.outcome}`, v.value]));
}

const statuses = (requests: RecordedRequest[]) => requests.map((r) => r.status);
const keyOf = (r: RecordedRequest) => (r.body as { dedup_key?: string }).dedup_key;
const actionOf = (r: RecordedRequest) => (r.body as { event_action?: string }).event_action;

describe('PagerDutyNotifier against the contract server', { timeout: 15_000 }, () => {
  it('delivers a trigger PagerDuty accepts exactly once', async () => {
    const { notifier, registry } = setUp();
    await notifier.start();
    const result = await notifier.send(alert(), 'trigger', TARGET);
    expect(result).toEqual({ status: 'success', action: 'trigger', dedupKey: 'dup-invoice-acct-7-2024-03', attempts: 1 });
    await sleep(250);
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request!.status).toBe(202);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.body).toMatchObject({ routing_key: KEY, event_action: 'trigger', dedup_key: 'dup-invoice-acct-7-2024-03', payload: { severity: 'critical', group: 'billing', class: 'duplicate-invoice' } });
    expect(server.incident('dup-invoice-acct-7-2024-03')).toMatchObject({ state: 'triggered', alertsOpened: 1 });
    expect(await counts(registry)).toMatchObject({ 'trigger/accepted': 1, 'trigger/retried': 0, 'trigger/rejected': 0, 'trigger/gave-up': 0 });
  });

  it('never retries a 400, and logs and counts it with PagerDuty\'s message — without the routing key', async () => {
    const { notifier, registry, lines, logs } = setUp();
    await notifier.start();
    server.script([{ status: 400, errors: ["'payload.summary' is missing or blank"] }]);
    const result = await notifier.send(alert(), 'trigger', TARGET);
    expect(result).toEqual({
      status: 'failure',
      reason: 'rejected',
      retryLater: false,
      attempts: 1,
      httpStatus: 400,
      message: 'Event object is invalid',
      errors: ["'payload.summary' is missing or blank"],
      action: 'trigger',
      dedupKey: 'dup-invoice-acct-7-2024-03',
    });
    await sleep(400); // longer than any backoff: a retry would have come by now
    expect(server.requests).toHaveLength(1);
    expect(logs('PagerDuty rejected event: not retried')).toEqual([
      expect.objectContaining({ level: 50, team: 'billing', routingKeyHash: routingKeyHash(KEY), httpStatus: 400, message: 'Event object is invalid', errors: ["'payload.summary' is missing or blank"] }),
    ]);
    expect(JSON.stringify(lines)).not.toContain(KEY);
    expect(await counts(registry)).toMatchObject({ 'trigger/rejected': 1, 'trigger/retried': 0, 'trigger/accepted': 0 });
  });

  it('does not send an event PagerDuty would refuse: it fails at once, logged and counted', async () => {
    const { notifier, registry, lines, logs } = setUp();
    await notifier.start();
    const badKey = 'not-a-32-character-routing-key';
    const result = await notifier.send({ ...alert(), labels: { severity: 'sev1' } }, 'trigger', { routingKey: badKey, team: 'billing' });
    expect(result).toEqual({
      status: 'failure',
      reason: 'invalid',
      retryLater: false,
      errors: ['routing_key: must be 32 characters (is 30)', 'payload.severity: "sev1" is not one of critical, error, warning, info'],
      action: 'trigger',
      dedupKey: 'dup-invoice-acct-7-2024-03',
    });
    expect(server.requests).toHaveLength(0);
    expect(logs('PagerDuty event invalid: not sent')).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toContain(badKey);
    expect(await counts(registry)).toMatchObject({ 'trigger/rejected': 1 });
  });

  it('waits as long as a 429 Retry-After asks, then delivers', async () => {
    const { notifier, registry } = setUp({ retry: { baseMs: 20, maxMs: 200, deadlineMs: 5_000 } });
    await notifier.start();
    server.script([{ status: 429, retryAfter: '1' }]);
    const result = await notifier.send(alert(), 'trigger', TARGET);
    expect(result).toMatchObject({ status: 'success', attempts: 2 });
    expect(statuses(server.requests)).toEqual([429, 202]);
    // The backoff alone would be 20 ms: the second try waited for Retry-After.
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(990);
    expect(server.incident('dup-invoice-acct-7-2024-03')).toMatchObject({ state: 'triggered', alertsOpened: 1 });
    expect(await counts(registry)).toMatchObject({ 'trigger/retried': 1, 'trigger/accepted': 1 });
  });

  it('retries 500 three times with growing backoff and delivers within the deadline, logging the retry once', async () => {
    const { notifier, registry, logs } = setUp();
    await notifier.start();
    server.script([{ status: 500 }, { status: 500 }, { status: 500 }]);
    const started = Date.now();
    const result = await notifier.send(alert(), 'trigger', TARGET);
    expect(result).toMatchObject({ status: 'success', attempts: 4 });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(statuses(server.requests)).toEqual([500, 500, 500, 202]);
    const gaps = server.requests.slice(1).map((r, i) => r.at - server.requests[i]!.at);
    // random() = 1: waits of 20, 40, 80 ms.
    expect(gaps[0]).toBeGreaterThanOrEqual(18);
    expect(gaps[1]).toBeGreaterThanOrEqual(38);
    expect(gaps[2]).toBeGreaterThanOrEqual(78);
    expect(logs('PagerDuty delivery failed: retrying')).toEqual([expect.objectContaining({ reason: 'server-error', detail: 'HTTP 500', attempt: 1 })]);
    expect(logs('PagerDuty delivery recovered')).toHaveLength(1);
    expect(await counts(registry)).toMatchObject({ 'trigger/retried': 3, 'trigger/accepted': 1, 'trigger/gave-up': 0 });
  });

  it('gives up on 500 forever at the deadline, and counts and logs it', async () => {
    const { notifier, registry, logs } = setUp({ retry: { baseMs: 20, maxMs: 200, deadlineMs: 1_500 } });
    await notifier.start();
    server.always({ status: 500 });
    const started = Date.now();
    const result = await notifier.send(alert(), 'trigger', TARGET);
    // How many attempts fit before the deadline depends on the machine; that none is made after it does not.
    const attempts = server.requests.length;
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(result).toEqual({ status: 'failure', reason: 'gave-up', retryLater: true, attempts, lastError: 'server-error: HTTP 500', action: 'trigger', dedupKey: 'dup-invoice-acct-7-2024-03' });
    for (const request of server.requests) expect(request.at - started).toBeLessThan(1_500);
    await sleep(400);
    expect(server.requests).toHaveLength(attempts);
    expect(logs('PagerDuty delivery gave up at its deadline')).toEqual([expect.objectContaining({ level: 50, attempts, lastError: 'server-error: HTTP 500', team: 'billing' })]);
    expect(await counts(registry)).toMatchObject({ 'trigger/gave-up': 1, 'trigger/retried': attempts - 1, 'trigger/accepted': 0 });
  });

  it('delivers a resolve after its trigger even when the trigger needed retries, without holding up other alerts', async () => {
    const { notifier } = setUp({ concurrency: 4 });
    await notifier.start();
    const a = alert('stuck-ticket-T-1', 'Ticket T-1 has not moved for 4 h');
    const b = alert('stuck-ticket-T-2', 'Ticket T-2 has not moved for 4 h');
    server.script([{ status: 500 }, { status: 503 }, { status: 429 }], { dedupKey: a.fingerprint });
    const results = await Promise.all([notifier.send(a, 'trigger', TARGET), notifier.send(a, 'resolve', TARGET), notifier.send(b, 'trigger', TARGET)]);
    expect(results.map((r) => [r.action, r.dedupKey, r.status])).toEqual([
      ['trigger', a.fingerprint, 'success'],
      ['resolve', a.fingerprint, 'success'],
      ['trigger', b.fingerprint, 'success'],
    ]);
    const forA = server.requests.filter((r) => keyOf(r) === a.fingerprint);
    expect(forA.map((r) => [actionOf(r), r.status])).toEqual([
      ['trigger', 500],
      ['trigger', 503],
      ['trigger', 429],
      ['trigger', 202],
      ['resolve', 202],
    ]);
    expect(server.incident(a.fingerprint)).toMatchObject({ state: 'resolved', alertsOpened: 1, events: [expect.objectContaining({ action: 'trigger', applied: true }), expect.objectContaining({ action: 'resolve', applied: true })] });
    // B went past A's retries.
    const acceptedB = server.requests.findIndex((r) => keyOf(r) === b.fingerprint && r.status === 202);
    const acceptedA = server.requests.findIndex((r) => keyOf(r) === a.fingerprint && r.status === 202);
    expect(acceptedB).toBeLessThan(acceptedA);
  });

  it('answers queue-full at once when the queue is full, counts it, logs it once, and drops nothing silently', async () => {
    const { notifier, registry, logs } = setUp({ queueSize: 2, concurrency: 1 });
    await notifier.start();
    server.script([{ delayMs: 300 }, { delayMs: 300 }]);
    const pending = [1, 2, 3, 4].map((i) => notifier.send(alert(`fp-${i}`), 'trigger', TARGET));
    const refused = await Promise.race([Promise.all([pending[2]!, pending[3]!]), sleep(100).then(() => 'still waiting' as const)]);
    expect(refused).toEqual([
      { status: 'failure', reason: 'queue-full', retryLater: true, action: 'trigger', dedupKey: 'fp-3' },
      { status: 'failure', reason: 'queue-full', retryLater: true, action: 'trigger', dedupKey: 'fp-4' },
    ]);
    expect(notifier.queued).toBe(2);
    const results: DeliveryResult[] = await Promise.all(pending);
    expect(results.map((r) => r.status)).toEqual(['success', 'success', 'failure', 'failure']);
    expect(server.accepted().map(keyOf)).toEqual(['fp-1', 'fp-2']);
    expect(logs('PagerDuty queue full: refusing events')).toHaveLength(1);
    expect(await counts(registry)).toMatchObject({ 'trigger/accepted': 2, 'trigger/queue-full': 2 });
    expect(await notifier.send(alert('fp-5'), 'trigger', TARGET)).toMatchObject({ status: 'success' });
    expect(logs('PagerDuty queue accepting events again')).toEqual([expect.objectContaining({ refused: 2 })]);
    const gauge = await registry.getSingleMetric('seamwatch_pagerduty_queue_events')!.get();
    expect(gauge.values[0]!.value).toBe(0);
  });

  it('retries a request that timed out; PagerDuty de-duplicates the late copy by dedup_key', async () => {
    const { notifier, registry, logs } = setUp({ requestTimeoutMs: 150 });
    await notifier.start();
    server.script([{ delayMs: 400 }]);
    const result = await notifier.send(alert(), 'trigger', TARGET);
    expect(result).toMatchObject({ status: 'success', attempts: 2 });
    expect(logs('PagerDuty delivery failed: retrying')).toEqual([expect.objectContaining({ reason: 'timeout' })]);
    await server.waitForRequests(2);
    await sleep(450); // the slow first request is processed after the client left
    expect(server.requests.every((r) => r.processed)).toBe(true);
    expect(server.incident('dup-invoice-acct-7-2024-03')).toMatchObject({ state: 'triggered', alertsOpened: 1 });
    expect(server.incident('dup-invoice-acct-7-2024-03')!.events).toHaveLength(2);
    expect(await counts(registry)).toMatchObject({ 'trigger/retried': 1, 'trigger/accepted': 1 });
  });

  it('retries when the connection drops without an answer', async () => {
    const { notifier, logs } = setUp();
    await notifier.start();
    server.script([{ hangUp: true }]);
    expect(await notifier.send(alert(), 'trigger', TARGET)).toMatchObject({ status: 'success', attempts: 2 });
    expect(logs('PagerDuty delivery failed: retrying')).toEqual([expect.objectContaining({ reason: 'network' })]);
  });

  it('gives up on an endpoint nobody listens on, naming the network error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { notifier } = setUp({ url: `http://127.0.0.1:${port}/v2/enqueue`, retry: { baseMs: 20, maxMs: 100, deadlineMs: 300 } });
    await notifier.start();
    const result = await notifier.send(alert(), 'trigger', TARGET);
    expect(result).toMatchObject({ status: 'failure', reason: 'gave-up', retryLater: true, lastError: 'network: ECONNREFUSED' });
  });
});

describe('PagerDutyNotifier lifecycle', { timeout: 15_000 }, () => {
  it('shutdown delivers what is queued within its deadline, then refuses new events', async () => {
    const { notifier, registry, logs } = setUp({ concurrency: 1, shutdownTimeoutMs: 3_000 });
    await notifier.start();
    server.always({ delayMs: 60 });
    server.script([{ status: 500 }], { dedupKey: 'fp-2' });
    const pending = [1, 2, 3, 4, 5, 6].map((i) => notifier.send(alert(`fp-${i}`), i % 2 ? 'trigger' : 'resolve', TARGET));
    const started = Date.now();
    await notifier.shutdown();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(notifier.state).toBe('stopped');
    expect((await Promise.all(pending)).map((r) => r.status)).toEqual(['success', 'success', 'success', 'success', 'success', 'success']);
    expect(server.accepted()).toHaveLength(6);
    expect(logs('PagerDuty notifier stopped')).toEqual([expect.objectContaining({ pending: 6, delivered: 6, abandoned: 0 })]);
    expect(await notifier.send(alert('fp-7'), 'trigger', TARGET)).toEqual({ status: 'failure', reason: 'not-running', retryLater: true, action: 'trigger', dedupKey: 'fp-7' });
    expect(await counts(registry)).toMatchObject({ 'trigger/accepted': 3, 'resolve/accepted': 3, 'resolve/retried': 1, 'trigger/gave-up': 1 });
  });

  it('shutdown abandons what it cannot deliver at its deadline, and says how much', async () => {
    const { notifier, registry, logs } = setUp({ shutdownTimeoutMs: 300, retry: { baseMs: 20, maxMs: 100, deadlineMs: 60_000 } });
    await notifier.start();
    server.always({ status: 500 });
    const pending = [notifier.send(alert('fp-1'), 'trigger', TARGET), notifier.send(alert('fp-1'), 'resolve', TARGET), notifier.send(alert('fp-2'), 'trigger', TARGET)];
    await sleep(50);
    const started = Date.now();
    await notifier.shutdown();
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(1_000);
    const results = await Promise.all(pending);
    expect(results.map((r) => r.status === 'failure' && r.reason)).toEqual(['shut-down', 'shut-down', 'shut-down']);
    // The last error is the 500, or, when the machine is slow, the request the deadline cut short.
    expect(results[0]).toMatchObject({ retryLater: true, lastError: expect.stringMatching(/^(server-error: HTTP 500|network: request aborted)$/) });
    // The resolve never went out: its trigger was never accepted.
    expect(server.requests.filter((r) => actionOf(r) === 'resolve')).toHaveLength(0);
    expect(logs('PagerDuty notifier stopped')).toEqual([expect.objectContaining({ pending: 3, delivered: 0, abandoned: 3 })]);
    // Requests already on the wire at the deadline may still reach the server; after that, nothing
    // more comes: no retry outlives the shutdown (backoff here is at most 100 ms).
    await sleep(200);
    const seen = server.requests.length;
    await sleep(300);
    expect(server.requests).toHaveLength(seen);
    expect(await counts(registry)).toMatchObject({ 'trigger/gave-up': 2, 'resolve/gave-up': 1 });
  });

  it('start and shutdown are idempotent; shutdown before start is fine; nothing is taken outside running', async () => {
    const { notifier, registry } = setUp();
    expect(await notifier.send(alert(), 'trigger', TARGET)).toMatchObject({ status: 'failure', reason: 'not-running' });
    await notifier.start();
    await notifier.start();
    expect(notifier.state).toBe('running');
    const first = notifier.shutdown();
    expect(notifier.shutdown()).toBe(first);
    await first;
    expect(notifier.state).toBe('stopped');
    await expect(notifier.start()).rejects.toThrow('cannot start after shutdown');
    expect(server.requests).toHaveLength(0);
    expect(await counts(registry)).toMatchObject({ 'trigger/gave-up': 1 });

    const never = setUp().notifier;
    await never.shutdown();
    await never.shutdown();
    expect(never.state).toBe('stopped');
  });
});

describe('PagerDuty contract server', { timeout: 15_000 }, () => {
  const post = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(server.url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) }).then(async (r) => ({ status: r.status, headers: r.headers, body: (await r.json()) as Record<string, unknown> }));
  const triggerBody = (dedupKey?: string, routingKey = KEY) => ({
    routing_key: routingKey,
    event_action: 'trigger',
    ...(dedupKey ? { dedup_key: dedupKey } : {}),
    payload: { summary: 'Invoice sent twice', source: 'seamwatch', severity: 'error' },
  });

  it('answers 202 like PagerDuty and keeps alert state per dedup key', async () => {
    expect(await post(triggerBody('k1'))).toMatchObject({ status: 202, body: { status: 'success', message: 'Event processed', dedup_key: 'k1' } });
    expect(server.incident('k1')).toMatchObject({ state: 'triggered', alertsOpened: 1 });
    await post(triggerBody('k1'));
    expect(server.incident('k1')).toMatchObject({ state: 'triggered', alertsOpened: 1 }); // de-duplicated
    await post({ routing_key: KEY, event_action: 'acknowledge', dedup_key: 'k1' });
    expect(server.incident('k1')!.state).toBe('acknowledged');
    await post({ routing_key: KEY, event_action: 'resolve', dedup_key: 'k1' });
    expect(server.incident('k1')!.state).toBe('resolved');
    expect((await post({ routing_key: KEY, event_action: 'resolve', dedup_key: 'k1' })).status).toBe(202);
    expect(server.incident('k1')!.events.at(-1)).toMatchObject({ action: 'resolve', applied: false }); // dropped: nothing open
    await post(triggerBody('k1'));
    expect(server.incident('k1')).toMatchObject({ state: 'triggered', alertsOpened: 2 }); // a new alert
  });

  it('drops a resolve sent with another routing key, and one for a key it never saw', async () => {
    await post(triggerBody('k2'));
    await post({ routing_key: OTHER_KEY, event_action: 'resolve', dedup_key: 'k2' });
    expect(server.incident('k2')).toMatchObject({ state: 'triggered' });
    await post({ routing_key: KEY, event_action: 'resolve', dedup_key: 'never-triggered' });
    expect(server.incident('never-triggered')).toMatchObject({ alertsOpened: 0, events: [expect.objectContaining({ applied: false })] });
  });

  it('makes up a dedup key for a trigger without one', async () => {
    const { body } = await post(triggerBody());
    expect(body.dedup_key).toMatch(/^[0-9a-f]{32}$/);
    expect(server.incident(String(body.dedup_key))).toMatchObject({ state: 'triggered' });
  });

  it('answers 400 with PagerDuty\'s error shape and changes no state', async () => {
    const { status, body } = await post({ ...triggerBody('k3'), payload: { summary: '', source: 'x', severity: 'fatal' } });
    expect(status).toBe(400);
    expect(body).toEqual({ status: 'invalid event', message: 'Event object is invalid', errors: ["'payload.summary' is missing or blank", "'payload.severity' is invalid (must be one of: critical, error, warning, info)"] });
    expect(server.incident('k3')).toBeUndefined();
    expect((await post('{"routing_key":')).body.errors).toEqual(['Malformed JSON']);
    expect((await post(triggerBody('k3'), { 'content-type': 'text/plain' })).status).toBe(400);
  });

  it('refuses other methods and paths', async () => {
    expect((await fetch(server.url)).status).toBe(405);
    expect((await fetch(server.url.replace('/v2/enqueue', '/v1/enqueue'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(triggerBody('k')) })).status).toBe(404);
  });

  it('follows its script in order, then behaves normally again, recording every request', async () => {
    server.script([{ status: 429, retryAfter: '7' }, { status: 503 }, { status: 400, errors: ['nope'] }]);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await post(triggerBody(`s${i}`)));
    expect(answers.map((a) => a.status)).toEqual([429, 503, 400, 202]);
    expect(answers[0]!.headers.get('retry-after')).toBe('7');
    expect(answers[2]!.body).toEqual({ status: 'invalid event', message: 'Event object is invalid', errors: ['nope'] });
    expect(server.requests.map((r) => [r.status, r.scripted, keyOf(r)])).toEqual([
      [429, true, 's0'],
      [503, true, 's1'],
      [400, true, 's2'],
      [202, false, 's3'],
    ]);
    expect(server.incident('s0')).toBeUndefined(); // refused requests change nothing
    expect(server.incident('s3')).toMatchObject({ state: 'triggered' });
  });
});
