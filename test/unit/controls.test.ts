import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { isPaused, pauseActive, pausedBy } from '../../src/alerts/pauses/pause.ts';
import { PauseStage } from '../../src/alerts/notify/pause-stage.ts';
import { buildNotifyChain, runChain, type NotifyContext } from '../../src/alerts/notify/index.ts';
import { InMemoryNotificationLog } from '../../src/alerts/notify/notification-log.ts';
import type { Alert } from '../../src/alerts/types.ts';
import type { AuditRecord, ControlStore, PagingPause, StoredDeadLetter } from '../../src/domain/controls.ts';
import { PauseBook } from '../../src/controls/paging-pauses.ts';
import { AuditTrail } from '../../src/controls/audit.ts';
import { replayDeadLetters, unreplayable } from '../../src/controls/dlq-replay.ts';
import type { Republished } from '../../src/collectors/kafka/republisher.ts';
import { sourceSchema } from '../../src/collectors/config.ts';
import { parseSince, readPauseBody } from '../../src/http/control-routes.ts';
import { apiSchema, resolveTokens } from '../../src/http/config.ts';
import { HttpServer } from '../../src/http/server.ts';
import { SilenceRegistry } from '../../src/alerts/silences/silence-store.ts';
import type { Store } from '../../src/domain/store.ts';
import { backfillReportLines, replayReportLines, scopeOf } from '../../src/cli/control-client.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

const T0 = Date.parse('2026-11-25T12:00:00.000Z');
const M = 60_000;
const H = 60 * M;

const pause = (over: Partial<PagingPause> = {}): PagingPause => ({ scope: 'team', name: 'billing', paused: true, until: 0, reason: 'INC-1', actor: 'ana', at: T0, ...over });
const alert = (fingerprint: string, labels: Record<string, string>, state: Alert['state'] = 'firing'): Alert => ({
  fingerprint,
  labels: { detector: 'd', ...labels },
  annotations: {},
  state,
  startsAt: T0 - H,
  endsAt: state === 'resolved' ? T0 : 0,
  generatorUrl: '',
});

describe('paging pauses (pure)', () => {
  it.each([
    ['paused, no expiry', pause(), T0 + 100 * H, true],
    ['paused, before until', pause({ until: T0 + H }), T0 + H - 1, true],
    ['paused, at until', pause({ until: T0 + H }), T0 + H, false],
    ['resumed', pause({ paused: false }), T0, false],
  ])('%s', (_name, p, now, active) => {
    expect(pauseActive(p, now)).toBe(active);
  });

  it('covers alerts whose team or workflow label is the name, and says which pause', () => {
    const pauses = [pause(), pause({ scope: 'workflow', name: 'plan-upgrade' }), pause({ name: 'support', paused: false })];
    expect(pausedBy(pauses, { team: 'billing', workflow: 'plan-upgrade' }, T0)).toEqual(['team=billing', 'workflow=plan-upgrade']);
    expect(pausedBy(pauses, { team: 'support', workflow: 'ticket' }, T0)).toEqual([]);
    expect(isPaused(pauses, { team: 'ops', workflow: 'plan-upgrade' }, T0)).toBe(true);
    // A workflow pause is not a team pause of the same name.
    expect(isPaused([pause({ scope: 'workflow', name: 'billing' })], { team: 'billing' }, T0)).toBe(false);
  });
});

describe('the pause stage', () => {
  const ctx: NotifyContext = { now: T0, groupKey: 'g', groupLabels: {}, receiver: 'pager', repeatIntervalMs: 4 * H, muteTimeIntervals: [], activeTimeIntervals: [], flushReason: 'group_wait' };

  it('holds back triggers of a paused team, passes resolves and other teams, and counts what it held', () => {
    const stage = new PauseStage(() => [pause()]);
    const result = stage.exec(ctx, [alert('a', { team: 'billing' }), alert('b', { team: 'billing' }, 'resolved'), alert('c', { team: 'support' })]);
    expect(result.alerts.map((a) => a.fingerprint)).toEqual(['b', 'c']);
    expect(result.ctx.paused).toBe(1);
    expect(result.note).toBe('1 paused');
  });

  it('comes first in the chain, so a paused trigger never reaches the receiver or the log, and is paged once resumed', async () => {
    const sent: string[] = [];
    const log = new InMemoryNotificationLog();
    let pauses = [pause()];
    const stages = buildNotifyChain({
      inhibitRules: [],
      currentAlerts: () => [],
      silences: () => [],
      timeIntervals: [],
      log,
      receivers: [{ name: 'pager', notify: async (n) => (sent.push(n.firing.map((a) => a.fingerprint).join(',')), { failed: [] }) }],
      pauses: () => pauses,
    });
    expect(stages[0]!.name).toBe('pause');
    const held = await runChain(stages, ctx, [alert('a', { team: 'billing' })]);
    expect(held).toMatchObject({ stoppedAt: 'pause', ctx: { paused: 1 } });
    expect(sent).toEqual([]);
    expect(log.entry('pager', 'g')).toBeUndefined();
    pauses = [pause({ paused: false })];
    await runChain(stages, { ...ctx, now: T0 + M }, [alert('a', { team: 'billing' })]);
    expect(sent).toEqual(['a']);
  });
});

/** The controls' rows in memory: a pure edge for the book and the trail. */
class MemoryControlStore implements Pick<ControlStore, 'pagingPauses' | 'writePagingPause' | 'writeAudit' | 'deadLettersToReplay'> {
  pauses: PagingPause[] = [];
  audits: AuditRecord[] = [];
  letters: StoredDeadLetter[] = [];
  failReads = false;
  async pagingPauses() {
    if (this.failReads) throw new Error('ClickHouse down');
    const newest = new Map<string, PagingPause>();
    for (const p of this.pauses) newest.set(`${p.scope}/${p.name}`, p);
    return [...newest.values()];
  }
  async writePagingPause(p: PagingPause) {
    this.pauses.push(p);
  }
  async writeAudit(r: AuditRecord) {
    this.audits.push(r);
  }
  async deadLettersToReplay(q: { topic: string; since: number; limit: number }) {
    return this.letters.filter((l) => l.topic === q.topic && l.at >= q.since).slice(0, q.limit);
  }
}

describe('the pause book', () => {
  it('takes its own change at once, another instance\'s at the next refresh, and keeps the last known when the store is down', async () => {
    const store = new MemoryControlStore();
    const book = new PauseBook({ store, logger: silentLogger(), now: () => T0 });
    await book.start();
    expect(book.active()).toEqual([]);
    await book.set(pause());
    expect(book.active().map((p) => p.name)).toEqual(['billing']);
    store.pauses.push(pause({ paused: false, at: T0 + M, actor: 'other-instance' }));
    await book.refresh();
    expect(book.active()).toEqual([]);
    expect(book.get('team', 'billing')?.actor).toBe('other-instance');
    store.pauses.push(pause({ at: T0 + 2 * M }));
    store.failReads = true;
    await expect(book.refresh()).rejects.toThrow('ClickHouse down');
    expect(book.active()).toEqual([]);
    await book.shutdown();
  });
});

describe('the audit trail', () => {
  it('writes a started row and an end row with the same id that replaces it', async () => {
    const store = new MemoryControlStore();
    let now = T0;
    const trail = new AuditTrail({ store, logger: silentLogger(), now: () => now, newId: () => 'id-1' });
    const entry = await trail.begin('ana', 'backfill', { from: 'x' });
    await entry.end('ok', '{"runs":5}');
    expect(store.audits.map((a) => [a.id, a.outcome, a.at])).toEqual([
      ['id-1', 'started', T0],
      ['id-1', 'ok', T0 + 1],
    ]);
    now = T0 + 5;
    expect(await trail.record('bob', 'pause', { name: 'billing' }, 'refused', 'bad name')).toMatchObject({ actor: 'bob', args: '{"name":"billing"}', outcome: 'refused' });
  });

  it('does not fail an action that is done when the store refuses its row: the log line stays the record', async () => {
    const lines: string[] = [];
    const logger = (await import('pino')).default({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const trail = new AuditTrail({ store: { writeAudit: async () => Promise.reject(new Error('ClickHouse down')) }, logger, now: () => T0, newId: () => 'id-9' });
    await expect(trail.record('ana', 'resume', { name: 'billing' }, 'ok')).resolves.toMatchObject({ id: 'id-9' });
    expect(lines.map((l) => JSON.parse(l) as { msg: string; actor: string })).toMatchObject([
      { msg: 'control action', actor: 'ana' },
      { msg: 'audit row not written (the log line is the record)', actor: 'ana' },
    ]);
  });
});

describe('dead-letter replay (decide and count)', () => {
  const crm = sourceSchema.parse({ name: 'crm', topic: 'crm.events' });
  const hooks = sourceSchema.parse({ name: 'hooks', transport: 'http' });
  const letter = (offset: number, raw: string | null, at = T0): StoredDeadLetter => ({ topic: 'crm.events', partition: offset % 2, offset: String(offset), at, reason: 'not-cloudevent', key: `k${offset}`, headers: { 'content-type': 'application/cloudevents+json' }, raw: raw === null ? null : Buffer.from(raw) });
  const event = (id: string) => JSON.stringify({ specversion: '1.0', id, source: 'crm', type: 'subscription.upgraded', time: '2026-11-25T11:00:00Z', correlationid: 'c-1' });

  it('puts back what decodes today, on its own partition with its key and headers, and counts the rest by reason', async () => {
    const store = new MemoryControlStore();
    store.letters = [letter(1, event('e1')), letter(2, 'not json'), letter(3, event('e3')), letter(4, JSON.stringify({ specversion: '1.0' })), letter(5, event('old'), T0 - 3 * H)];
    const published: Republished[] = [];
    const progress: unknown[] = [];
    const options = { store, sources: [crm, hooks], contract: { maxFieldLength: 256, maxTimeAhead: 5 * M }, publish: async (m: readonly Republished[]) => void published.push(...m), now: () => T0 };
    const report = await replayDeadLetters(options, { topic: 'crm.events', since: T0 - H, limit: 100, batchSize: 2 }, (p) => progress.push(p));
    expect(report).toEqual({ topic: 'crm.events', read: 4, nowDecode: 2, replayed: 2, stillFailing: { 'not-json': 1, 'missing-field': 1 }, truncated: false });
    expect(published.map((m) => [m.topic, m.partition, m.key, m.headers['content-type']])).toEqual([
      ['crm.events', 1, 'k1', 'application/cloudevents+json'],
      ['crm.events', 1, 'k3', 'application/cloudevents+json'],
    ]);
    expect(progress).toEqual([
      { read: 2, nowDecode: 1, failing: 1 },
      { read: 4, nowDecode: 2, failing: 2 },
    ]);
    const dry = await replayDeadLetters(options, { topic: 'crm.events', since: T0 - H, limit: 3, dryRun: true });
    expect(dry).toMatchObject({ read: 3, nowDecode: 2, replayed: 0, truncated: true });
    expect(published).toHaveLength(2);
  });

  it('refuses a topic no source reads and an HTTP source', () => {
    expect(unreplayable('crm.events', [crm])).toBeUndefined();
    expect(unreplayable('nope', [crm])).toBe('no source reads topic "nope" in today\'s config (known: crm.events)');
    expect(unreplayable('http:hooks', [crm, hooks])).toContain('is an HTTP source');
  });
});

describe('control API bodies and tokens', () => {
  const known = { team: ['billing', 'support'], workflow: ['plan-upgrade'] };

  it('reads a pause with a duration or an until, and lists every problem at once', () => {
    expect(readPauseBody({ scope: 'team', name: 'billing', reason: ' INC-1 ', duration: '2h' }, T0, known)).toEqual({
      ok: true,
      pause: { scope: 'team', name: 'billing', until: T0 + 2 * H, reason: 'INC-1' },
      args: { scope: 'team', name: 'billing', reason: ' INC-1 ', until: new Date(T0 + 2 * H).toISOString() },
    });
    expect(readPauseBody({ scope: 'workflow', name: 'plan-upgrade', reason: 'x', until: '2026-11-25T13:00:00Z' }, T0, known)).toMatchObject({ ok: true, pause: { until: T0 + H } });
    expect(readPauseBody({ scope: 'service', reason: '', duration: 'soon', until: 'later' }, T0, known)).toEqual({
      ok: false,
      problems: ['scope: must be "team" or "workflow"', 'name: required', 'reason: required (the incident, a ticket)', 'duration, until: give one, not both'],
    });
    expect(readPauseBody({ scope: 'team', name: 'bil000', reason: 'x', until: '2026-11-25T11:00:00Z' }, T0, known)).toEqual({
      ok: false,
      problems: ['name: no team "bil000" in the config (known: billing, support)', 'until: must be in the future'],
    });
  });

  it.each([
    ['24h', T0 - 24 * H],
    ['2026-11-25T10:00:00Z', T0 - 2 * H],
    ['yesterday', undefined],
    ['2026', undefined],
  ])('since %s', (text, expected) => {
    expect(parseSince(text, T0)).toBe(expected);
  });

  it('keeps the single-token config and adds named tokens; refuses duplicate names and the reserved one', () => {
    const api = apiSchema.parse({ tokens: [{ name: 'ana', env: 'ANA_TOKEN' }, { name: 'ci', env: 'CI_TOKEN' }] });
    expect(resolveTokens(api, { SEAMWATCH_API_TOKEN: 't0', ANA_TOKEN: 't1' })).toEqual({
      tokens: [
        { name: 'api-token', value: 't0' },
        { name: 'ana', value: 't1' },
      ],
      unset: ['ci (CI_TOKEN)'],
    });
    const bad = apiSchema.safeParse({ tokens: [{ name: 'ana', env: 'A' }, { name: 'ana', env: 'B' }, { name: 'api-token', env: 'C' }] });
    expect(bad.success ? [] : bad.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'tokens.1.name: "ana" is already the name of another token',
      'tokens.2.name: "api-token" is the name of the tokenEnv token: pick another',
    ]);
  });
});

describe('the control API over HTTP (in-memory rows)', () => {
  const servers: HttpServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.shutdown()));
  });

  async function setUp() {
    const rows = new MemoryControlStore();
    const pauses = new PauseBook({ store: rows, logger: silentLogger(), now: () => T0 });
    const server = new HttpServer({
      host: '127.0.0.1',
      port: 0,
      registry: new Registry(),
      store: { ping: async () => true } as unknown as Store,
      ready: () => true,
      logger: silentLogger(),
      alerts: { alerts: () => [alert('a', { team: 'billing' }), alert('b', { team: 'support' })] },
      apiToken: 'plain',
      apiTokens: [{ name: 'ana', value: 'ana-secret' }],
      silences: new SilenceRegistry(),
      now: () => T0,
      controls: { pauses, audit: new AuditTrail({ store: rows, logger: silentLogger(), now: () => T0 }), store: { audit: async () => rows.audits }, known: { team: ['billing', 'support'], workflow: [] } },
    });
    servers.push(server);
    await server.start();
    const call = async (method: string, path: string, body?: unknown, token?: string) => {
      const res = await fetch(`http://127.0.0.1:${server.port}${path}`, { method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
      return { status: res.status, body: (await res.json()) as any };
    };
    return { rows, call };
  }

  it('pauses under the token\'s name, shows it on the alerts it covers, resumes, refuses without a token, and audits silence changes too', async () => {
    const { rows, call } = await setUp();
    expect((await call('POST', '/api/v1/pauses', { scope: 'team', name: 'billing', reason: 'INC-9' })).status).toBe(401);
    expect((await call('POST', '/api/v1/pauses', { scope: 'team', name: 'billing', reason: 'INC-9' }, 'wrong')).status).toBe(401);
    expect((await call('POST', '/api/v1/pauses', { scope: 'team', name: 'billing', reason: 'INC-9' }, 'ana-secret')).body).toMatchObject({ by: 'ana', active: true });
    const listed = (await call('GET', '/api/v1/alerts')).body;
    expect(listed.pauses).toHaveLength(1);
    expect(listed.alerts.map((a: { fingerprint: string; pausedBy: string[] }) => [a.fingerprint, a.pausedBy])).toEqual([
      ['a', ['team=billing']],
      ['b', []],
    ]);
    expect((await call('DELETE', '/api/v1/pauses/team/billing', undefined, 'plain')).body).toMatchObject({ by: 'api-token', active: false });
    expect((await call('GET', '/api/v1/alerts')).body.pauses).toEqual([]);
    const silence = await call('POST', '/api/v1/silences', { matchers: ['team="billing"'], duration: '1h', createdBy: 'ana@example.com', comment: 'deploy' }, 'ana-secret');
    expect(silence.status).toBe(201);
    expect((await call('DELETE', `/api/v1/silences/${silence.body.id}`, undefined, 'plain')).status).toBe(200);
    expect(rows.audits.map((a) => `${a.actor} ${a.action} ${a.outcome}`)).toEqual(['ana pause ok', 'api-token resume ok', 'ana silence-create ok', 'api-token silence-expire ok']);
    expect(rows.pauses.map((p) => p.paused)).toEqual([true, false]);
  });
});

describe('the CLI\'s control client (pure parts)', () => {
  it('asks for exactly one scope', () => {
    expect(scopeOf({ team: 'billing' })).toEqual({ scope: 'team', name: 'billing' });
    expect(scopeOf({ workflow: 'plan-upgrade' })).toEqual({ scope: 'workflow', name: 'plan-upgrade' });
    expect(scopeOf({})).toBe('give one of --team <team> or --workflow <workflow>');
    expect(scopeOf({ team: 'a', workflow: 'b' })).toBe('give one of --team <team> or --workflow <workflow>');
  });

  it('prints a replay report and a backfill report', () => {
    expect(replayReportLines({ topic: 'billing.events', read: 12, nowDecode: 9, replayed: 9, stillFailing: { 'not-json': 1, 'mapping-failed': 2 }, truncated: false })).toEqual([
      'billing.events: 12 dead letters read, 9 now decode, 9 put back on the topic',
      'still failing: 3',
      '  mapping-failed: 2',
      '  not-json: 1',
    ]);
    expect(backfillReportLines({ from: 'a', to: 'b', events: 15, runs: 5, sloVerdicts: 5, sloVerdictsBad: 5, findings: [] })).toEqual([
      "a – b: 15 stored events, 5 runs stitched again with today's config",
      'SLO verdicts rewritten: 5 (5 bad); their minutes recounted',
      'detector findings (recorded, not paged): 0',
    ]);
  });
});
