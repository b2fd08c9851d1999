import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { SilenceRegistry } from '../../src/alerts/silences/silence-store.ts';
import type { Alert } from '../../src/alerts/types.ts';
import { HttpServer } from '../../src/http/server.ts';
import type { Store } from '../../src/domain/store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

const T0 = Date.parse('2026-11-25T12:00:00.000Z');
const HOUR = 3_600_000;
const TOKEN = 's3cret-token';

const alert = (fingerprint: string, team: string): Alert => ({
  fingerprint,
  labels: { alertname: 'stuck-ticket', team, severity: 'warning' },
  annotations: { summary: `ticket ${fingerprint} stuck` },
  state: 'firing',
  startsAt: T0 - HOUR,
  endsAt: 0,
  generatorUrl: `http://seamwatch/traces/${fingerprint}`,
});

const servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.shutdown()));
});

async function setUp(options: { token?: string | undefined; alerts?: Alert[]; logs?: string[]; save?: () => Promise<void>; saveTimeoutMs?: number } = {}) {
  const clock = { now: T0 };
  let next = 0;
  const changes: number[] = [];
  const silences = new SilenceRegistry({ newId: () => `s${++next}`, changed: (list) => changes.push(list.length) });
  const server = new HttpServer({
    host: '127.0.0.1',
    port: 0,
    registry: new Registry(),
    store: { ping: async () => true } as unknown as Store,
    ready: () => true,
    logger: options.logs ? pino({ level: 'info' }, { write: (line: string) => void options.logs!.push(line) }) : silentLogger(),
    alerts: { alerts: () => options.alerts ?? [] },
    silences,
    ...(options.save ? { saveSilences: options.save } : {}),
    ...(options.saveTimeoutMs !== undefined ? { saveSilencesTimeoutMs: options.saveTimeoutMs } : {}),
    apiToken: 'token' in options ? options.token : TOKEN,
    now: () => clock.now,
  });
  servers.push(server);
  await server.start();
  const base = `http://127.0.0.1:${server.port}`;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as any };
  };
  return { clock, silences, changes, call };
}

const billing = {
  matchers: 'team="billing-platform"',
  duration: '2h',
  createdBy: 'ana@example.com',
  comment: 'invoice backfill, CHG-1234',
};

describe('the silences API', () => {
  it('creates, lists, gets, updates in place, replaces and expires a silence', async () => {
    const logs: string[] = [];
    const { clock, silences, changes, call } = await setUp({ logs });

    const created = await call('POST', '/api/v1/silences', billing);
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/v1/silences/s1');
    expect(created.body).toEqual({
      id: 's1',
      state: 'active',
      matchers: [{ name: 'team', type: '=', value: 'billing-platform' }],
      startsAt: '2026-11-25T12:00:00.000Z',
      endsAt: '2026-11-25T14:00:00.000Z',
      createdBy: 'ana@example.com',
      comment: 'invoice backfill, CHG-1234',
      updatedAt: '2026-11-25T12:00:00.000Z',
    });
    const pending = await call('POST', '/api/v1/silences', {
      matchers: [{ name: 'workflow', type: '=~', value: 'plan-.*' }, 'severity!="critical"'],
      startsAt: '2026-11-25T18:00:00Z',
      endsAt: '2026-11-25T20:00:00Z',
      createdBy: 'bo',
      comment: 'maintenance',
    });
    expect(pending.status).toBe(201);
    expect(pending.body).toMatchObject({ id: 's2', state: 'pending', matchers: [{ name: 'workflow', type: '=~', value: 'plan-.*' }, { name: 'severity', type: '!=', value: 'critical' }] });

    const list = await call('GET', '/api/v1/silences', undefined, {});
    expect(list.body.silences.map((s: { id: string; state: string }) => `${s.id}:${s.state}`)).toEqual(['s1:active', 's2:pending']);
    expect((await call('GET', '/api/v1/silences?state=pending', undefined, {})).body.silences.map((s: { id: string }) => s.id)).toEqual(['s2']);
    expect(await call('GET', '/api/v1/silences?state=gone', undefined, {})).toMatchObject({ status: 400, body: { error: 'state must be active, pending or expired, not "gone"' } });
    expect((await call('GET', '/api/v1/silences/s1', undefined, {})).body).toEqual(created.body);
    expect(await call('GET', '/api/v1/silences/nope', undefined, {})).toMatchObject({ status: 404, body: { error: 'silence "nope" not found' } });

    // Same matchers, longer: changed in place, keeping its start.
    clock.now = T0 + HOUR;
    const extended = await call('PUT', '/api/v1/silences/s1', { ...billing, duration: '3h', comment: 'backfill slower than planned' });
    expect(extended.status).toBe(200);
    expect(extended.body).toMatchObject({ id: 's1', state: 'active', startsAt: '2026-11-25T12:00:00.000Z', endsAt: '2026-11-25T16:00:00.000Z', comment: 'backfill slower than planned' });

    // Other matchers: the old silence is expired and a new one takes its place.
    const replaced = await call('PUT', '/api/v1/silences/s1', { ...created.body, matchers: 'team="billing-platform", workflow="invoice"', endsAt: '2026-11-25T16:00:00Z' });
    expect(replaced.status).toBe(200);
    const newId = replaced.body.id as string;
    expect(newId).not.toBe('s1');
    expect(replaced.headers.get('location')).toBe(`/api/v1/silences/${newId}`);
    expect(replaced.body).toMatchObject({ state: 'active', startsAt: '2026-11-25T13:00:00.000Z', endsAt: '2026-11-25T16:00:00.000Z' });
    expect(silences.get('s1')).toMatchObject({ endsAt: T0 + HOUR });

    const expired = await call('DELETE', `/api/v1/silences/${newId}`);
    expect(expired.status).toBe(200);
    expect(expired.body).toMatchObject({ id: newId, state: 'expired', endsAt: '2026-11-25T13:00:00.000Z' });
    expect(await call('DELETE', `/api/v1/silences/${newId}`)).toMatchObject({ status: 409, body: { error: `silence "${newId}" has already expired` } });
    expect(await call('DELETE', '/api/v1/silences/nope')).toMatchObject({ status: 404, body: { error: 'silence "nope" not found' } });
    expect((await call('GET', '/api/v1/silences?state=active', undefined, {})).body.silences).toEqual([]);
    expect(changes).toEqual([1, 2, 2, 3, 3]);
    expect(logs.map((l) => JSON.parse(l).msg)).toEqual(['http listening', 'silence created', 'silence created', 'silence updated', 'silence replaced', 'silence expired']);
    expect(logs.join('\n')).not.toContain(TOKEN);
  });

  it('answers 401 without the bearer token or with a wrong one, and changes nothing', async () => {
    const { silences, call } = await setUp();
    const missing = await call('POST', '/api/v1/silences', billing, {});
    expect(missing).toMatchObject({ status: 401, body: { error: 'authorization required: Authorization: Bearer <token>' } });
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="seamwatch"');
    expect(await call('POST', '/api/v1/silences', billing, { authorization: 'Bearer s3cret-tokeN' })).toMatchObject({ status: 401, body: { error: 'invalid bearer token' } });
    expect(await call('POST', '/api/v1/silences', billing, { authorization: 'Bearer s3cret' })).toMatchObject({ status: 401, body: { error: 'invalid bearer token' } });
    expect(await call('POST', '/api/v1/silences', billing, { authorization: `Basic ${TOKEN}` })).toMatchObject({ status: 401 });
    expect(await call('PUT', '/api/v1/silences/s1', billing, {})).toMatchObject({ status: 401 });
    expect(await call('DELETE', '/api/v1/silences/s1', undefined, { authorization: 'Bearer wrong' })).toMatchObject({ status: 401 });
    // The token is checked before the body is read: a bad body without the token is still 401.
    expect(await call('POST', '/api/v1/silences', '{not json', {})).toMatchObject({ status: 401 });
    expect(silences.list()).toEqual([]);
  });

  it('never logs the token', async () => {
    const logs: string[] = [];
    const { call } = await setUp({ logs });
    await call('POST', '/api/v1/silences', billing);
    await call('POST', '/api/v1/silences', billing, { authorization: `Bearer ${TOKEN}x` });
    expect(logs.length).toBeGreaterThan(1);
    expect(logs.join('\n')).not.toContain(TOKEN);
  });

  it('is read-only with 503 when no token is configured', async () => {
    const { call } = await setUp({ token: undefined });
    expect(await call('POST', '/api/v1/silences', billing)).toMatchObject({ status: 503, body: { error: 'silences are read-only: set SEAMWATCH_API_TOKEN' } });
    expect(await call('DELETE', '/api/v1/silences/s1')).toMatchObject({ status: 503 });
    expect(await call('GET', '/api/v1/silences', undefined, {})).toMatchObject({ status: 200, body: { silences: [] } });
  });

  it('lists every problem of a bad silence with its field', async () => {
    const { silences, call } = await setUp();
    const post = (body: unknown) => call('POST', '/api/v1/silences', body);
    expect(await post({ matchers: 'team=~""', endsAt: '2026-11-25T11:00:00Z', createdBy: ' ', extra: 1 })).toEqual({
      status: 400,
      headers: expect.anything(),
      body: {
        error: 'invalid silence',
        problems: [
          'extra: unknown field',
          'matchers: would silence every alert: each matcher also matches alerts without its label (add one that does not match "")',
          'createdBy: required (who owns this silence)',
          'comment: required (why the silence is needed)',
          'endsAt: must be in the future',
        ],
      },
    });
    expect((await post({ matchers: ['team="billing"', { name: 'bad-name', type: '=', value: 'x' }, 7, 'team=~"("'], startsAt: 'tomorrow', duration: '2 hours', createdBy: 3, comment: 'x' })).body.problems).toEqual([
      'matchers[1]: invalid label name "bad-name"',
      'matchers[2]: must be a string like team="billing-platform" or { name, type, value } with string fields',
      'matchers[3]: column 1: invalid regular expression "(": Unterminated group',
      'startsAt: must be an ISO 8601 time, e.g. "2026-11-25T21:00:00Z", not "tomorrow"',
      'createdBy: must be a string',
      'duration: not a duration: "2 hours" (use e.g. 30m, 2h, 1d)',
    ]);
    expect((await post({ createdBy: 'ana', comment: 'x' })).body.problems).toEqual(['matchers: required, e.g. team="billing-platform"', 'endsAt: required (or duration, e.g. "2h")']);
    expect((await post({ ...billing, matchers: 'team="billing', endsAt: '2026-11-25T13:00:00Z' })).body.problems).toEqual([
      'duration: give endsAt or duration, not both',
      'matchers: column 6: quoted string is not closed',
    ]);
    expect((await post({ ...billing, matchers: [] })).body.problems).toEqual(['matchers: at least one matcher is required']);
    expect((await post({ ...billing, startsAt: '2026-11-25T15:00:00Z', duration: undefined, endsAt: '2026-11-25T14:00:00Z' })).body.problems).toEqual(['endsAt: must be after startsAt']);
    expect(await post([billing])).toMatchObject({ status: 400, body: { problems: ['body: must be a JSON object (Content-Type: application/json)'] } });
    expect(await post('{"matchers": ')).toMatchObject({ status: 400, body: { error: 'invalid silence', problems: ['body: not valid JSON'] } });
    expect(await post({ ...billing, comment: 'x'.repeat(70_000) })).toMatchObject({ status: 413, body: { error: 'body: larger than 64kb' } });
    expect(await call('PUT', '/api/v1/silences/nope', billing)).toMatchObject({ status: 404 });
    expect(silences.list()).toEqual([]);
  });

  it('shows on each alert the active silences that mute it', async () => {
    const { clock, call } = await setUp({ alerts: [alert('a', 'billing-platform'), alert('b', 'support-ops')] });
    await call('POST', '/api/v1/silences', billing);
    await call('POST', '/api/v1/silences', { ...billing, matchers: 'alertname="stuck-ticket"' });
    await call('POST', '/api/v1/silences', { ...billing, startsAt: '2026-11-25T13:00:00Z' });
    const silencedBy = async () => Object.fromEntries((await call('GET', '/api/v1/alerts', undefined, {})).body.alerts.map((a: { fingerprint: string; silencedBy: string[] }) => [a.fingerprint, a.silencedBy]));
    expect(await silencedBy()).toEqual({ a: ['s1', 's2'], b: ['s2'] });
    clock.now = T0 + HOUR;
    await call('DELETE', '/api/v1/silences/s2');
    expect(await silencedBy()).toEqual({ a: ['s1', 's3'], b: [] });
  });
});

describe('silences API: a change is answered once it is stored', () => {
  it('answers a create, an update and an expiry only after the store took it, with stored: true', async () => {
    const saved: string[] = [];
    let silences!: SilenceRegistry;
    const api = await setUp({
      save: async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        saved.push(silences.list().map((s) => `${s.id}:${s.updatedAt}`).join(','));
      },
    });
    silences = api.silences;
    const created = await api.call('POST', '/api/v1/silences', billing);
    expect(created.status).toBe(201);
    expect(created.body.stored).toBe(true);
    expect(saved).toEqual([`s1:${T0}`]);
    api.clock.now += 1_000;
    const updated = await api.call('PUT', '/api/v1/silences/s1', { ...billing, comment: 'longer' });
    expect(updated.body.stored).toBe(true);
    api.clock.now += 1_000;
    const expired = await api.call('DELETE', `/api/v1/silences/${updated.body.id}`);
    expect(expired.body.stored).toBe(true);
    expect(saved).toHaveLength(3);
  });

  it('says stored: false, and logs why, when the store does not take it: the silence still holds here', async () => {
    const logs: string[] = [];
    const api = await setUp({ logs, save: async () => Promise.reject(new Error('store down')) });
    const created = await api.call('POST', '/api/v1/silences', billing);
    expect(created.status).toBe(201);
    expect(created.body.stored).toBe(false);
    expect(api.silences.list()).toHaveLength(1);
    expect(logs.some((l) => l.includes('not stored yet') && l.includes('store down'))).toBe(true);
  });

  it('answers stored: false after the timeout when the store hangs, instead of hanging the caller', async () => {
    const logs: string[] = [];
    const api = await setUp({ logs, save: () => new Promise<void>(() => undefined), saveTimeoutMs: 100 });
    const started = Date.now();
    const created = await api.call('POST', '/api/v1/silences', billing);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(created.body.stored).toBe(false);
    expect(logs.some((l) => l.includes('did not answer within 100 ms'))).toBe(true);
  });
});
