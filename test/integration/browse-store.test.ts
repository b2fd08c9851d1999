import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../src/domain/dead-letter.ts';
import type { RunRecord, RunState, SloOutcomeRecord } from '../../src/domain/records.ts';
import { HttpServer } from '../../src/http/server.ts';
import type { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { Registry } from 'prom-client';
import { ENGINES, ENGINE_NAMES, requireServices, store, unique } from '../support/services.ts';

const M = 60_000;
const T0 = Date.UTC(2026, 10, 20, 9);
const HOSTILE = `x'); DROP TABLE runs; -- <script>alert(1)</script>`;

function run(i: number, state: RunState, version: number, extra: Partial<RunRecord> = {}): RunRecord {
  return {
    runId: `plan-upgrade:c-${i}`,
    workflow: i % 2 === 0 ? 'plan-upgrade' : 'support-ticket',
    owner: 'billing-platform',
    correlationId: `c-${i}`,
    partition: 0,
    state,
    startedAt: T0 + i * M,
    deadlineAt: T0 + i * M + 5 * M,
    completedAt: state === 'completed' ? T0 + i * M + 30_000 : 0,
    deadlineMissed: false,
    missingSteps: state === 'completed' ? [] : ['entitlement-activated'],
    failedSteps: [],
    eventCount: version,
    lastEventAt: T0 + i * M,
    version,
    ...extra,
  };
}

function letter(offset: number, reason: DeadLetter['reason'], raw: Buffer | null, at: number): DeadLetter {
  return { reason, detail: `detail ${offset}`, origin: { topic: 'crm.events', partition: 1, offset: String(offset) }, raw, headers: { 'ce-id': `h-${offset}` }, key: offset % 2 === 0 ? `k-${offset}` : null, at };
}

const outcome = (slo: string, runId: string, good: boolean, version: number): SloOutcomeRecord => ({ slo, workflow: 'plan-upgrade', runId, correlationId: runId.split(':')[1]!, due: T0 + 5 * M, good, version });

describe.each(ENGINES.map((e) => [ENGINE_NAMES[e], e] as const))('browsing runs, dead letters and SLO verdicts on %s', (_name, engine) => {
  const database = unique('browse');
  let ch: ClickHouseStore;

  beforeAll(async () => {
    await requireServices();
    ch = store(database, engine);
    await ch.start();
    const empty = { events: [], spans: [], deadLetters: [], sloOutcomes: [] };
    // Ten runs; every run first stored open (version 1), then most of them completed (version 2),
    // in separate inserts so the old versions are still there unmerged.
    await ch.write({ ...empty, runs: Array.from({ length: 10 }, (_, i) => run(i, 'open', 1)) });
    await ch.write({ ...empty, runs: Array.from({ length: 10 }, (_, i) => i).filter((i) => i % 5 !== 0).map((i) => run(i, 'completed', 2)) });
    await ch.write({ ...empty, runs: [run(10, 'failed', 3, { correlationId: HOSTILE, runId: `plan-upgrade:${HOSTILE}` })] });
    const binary = Buffer.from([0x3c, 0x62, 0x3e, 0xff, 0xfe, 0x00, 0x41]);
    const letters = [letter(1, 'not-json', Buffer.from('<script>alert(1)</script>'), T0), letter(2, 'mapping-failed', binary, T0 + M), letter(3, 'not-json', null, T0 + 2 * M), letter(4, 'not-json', Buffer.alloc(5_000, 0x61), T0 + 3 * M)];
    await ch.write({ ...empty, runs: [], deadLetters: letters });
    // The same dead letter stored again (a replay): still one.
    await ch.write({ ...empty, runs: [], deadLetters: [letters[0]!] });
    await ch.write({ ...empty, runs: [], sloOutcomes: [outcome('upgrade-sync-5m', 'plan-upgrade:c-2', false, 1), outcome('other', 'plan-upgrade:c-2', true, 1)] });
    await ch.write({ ...empty, runs: [], sloOutcomes: [outcome('upgrade-sync-5m', 'plan-upgrade:c-2', true, 2), outcome('upgrade-sync-5m', 'plan-upgrade:c-4', false, 1)] });
  });

  afterAll(async () => {
    await ch?.command(`DROP DATABASE IF EXISTS ${database}`);
    await ch?.shutdown();
  });

  const all = { from: T0 - M, to: T0 + 60 * M, limit: 100 };

  it('lists each run once, at its newest version, newest start first', async () => {
    const page = await ch.runs(all);
    expect(page.total).toBe(11);
    expect(page.runs.map((r) => r.correlationId)).toEqual([HOSTILE, ...Array.from({ length: 10 }, (_, i) => `c-${9 - i}`)]);
    expect(page.runs.find((r) => r.correlationId === 'c-3')).toMatchObject({ state: 'completed', version: 2, missingSteps: [] });
  });

  it('filters by state after picking the newest version: a completed run is not also open', async () => {
    const open = await ch.runs({ ...all, state: 'open' });
    expect(open.runs.map((r) => r.correlationId)).toEqual(['c-5', 'c-0']);
    expect(open.total).toBe(2);
    expect((await ch.runs({ ...all, state: 'completed' })).total).toBe(8);
    expect((await ch.runs({ ...all, state: 'failed' })).runs.map((r) => r.correlationId)).toEqual([HOSTILE]);
  });

  it('filters by workflow and start time, limits the list but counts them all', async () => {
    const page = await ch.runs({ workflow: 'plan-upgrade', from: T0 + 2 * M, to: T0 + 8 * M, limit: 2 });
    expect(page.runs.map((r) => r.correlationId)).toEqual(['c-6', 'c-4']);
    expect(page.total).toBe(3);
    expect((await ch.runs({ ...all, workflow: HOSTILE })).total).toBe(0);
  });

  it('lists each dead letter once, newest first, with its raw bytes exactly', async () => {
    const page = await ch.deadLetters({ from: T0, to: T0 + 10 * M, limit: 10 });
    expect(page.total).toBe(4);
    expect(page.deadLetters.map((d) => d.origin.offset)).toEqual(['4', '3', '2', '1']);
    expect(page.deadLetters[2]!.raw).toEqual(Buffer.from([0x3c, 0x62, 0x3e, 0xff, 0xfe, 0x00, 0x41]));
    expect(page.deadLetters[1]!.raw).toBeNull();
    expect(page.deadLetters[3]).toMatchObject({ reason: 'not-json', detail: 'detail 1', key: null, headers: { 'ce-id': 'h-1' }, raw: Buffer.from('<script>alert(1)</script>') });
    expect(page.deadLetters[2]!.key).toBe('k-2');
  });

  it('filters dead letters by reason, topic and time', async () => {
    expect((await ch.deadLetters({ from: T0, to: T0 + 10 * M, limit: 10, reason: 'not-json' })).total).toBe(3);
    expect((await ch.deadLetters({ from: T0 + M, to: T0 + 3 * M, limit: 10 })).deadLetters.map((d) => d.origin.offset)).toEqual(['3', '2']);
    expect((await ch.deadLetters({ from: T0, to: T0 + 10 * M, limit: 10, topic: HOSTILE })).total).toBe(0);
  });

  it('keeps each redelivery once per origin and gives a trace its redeliveries', async () => {
    const empty = { events: [], runs: [], spans: [], deadLetters: [], sloOutcomes: [] };
    const again = (offset: string, receivedAt: number) => ({ correlationId: HOSTILE, source: 'billing', eventId: 'inv-1', origin: { topic: 'http:billing', partition: 0, offset }, receivedAt });
    await ch.write({ ...empty, redeliveries: [again('200', T0 + 2 * M), again('100', T0 + M)] });
    // The same message read again after a restart: the same origin, still one row.
    await ch.write({ ...empty, redeliveries: [again('100', T0 + 3 * M)] });
    const trace = await ch.trace(HOSTILE);
    expect(trace.redeliveries.map((r) => [r.eventId, r.origin.offset])).toEqual([
      ['inv-1', '100'],
      ['inv-1', '200'],
    ]);
    expect((await ch.trace('c-1')).redeliveries).toEqual([]);
  });

  it('gives the newest verdict of each asked SLO on each asked run', async () => {
    const verdicts = await ch.runSloVerdicts(['plan-upgrade:c-2', 'plan-upgrade:c-4', 'plan-upgrade:c-6'], ['upgrade-sync-5m']);
    expect(verdicts).toEqual([
      { slo: 'upgrade-sync-5m', runId: 'plan-upgrade:c-2', due: T0 + 5 * M, good: true },
      { slo: 'upgrade-sync-5m', runId: 'plan-upgrade:c-4', due: T0 + 5 * M, good: false },
    ]);
    expect(await ch.runSloVerdicts([], ['upgrade-sync-5m'])).toEqual([]);
  });

  describe('through the HTTP API', () => {
    let http: HttpServer;
    let base = '';
    const token = 'web-view-test-token';
    let guarded: HttpServer;
    let guardedBase = '';

    beforeAll(async () => {
      const options = { host: '127.0.0.1', port: 0, registry: new Registry(), store: ch, ready: () => true, logger: silentLogger(), now: () => T0 + 30 * M };
      http = new HttpServer(options);
      await http.start();
      base = `http://127.0.0.1:${http.port}`;
      guarded = new HttpServer({ ...options, registry: new Registry(), apiToken: token, protectReads: true });
      await guarded.start();
      guardedBase = `http://127.0.0.1:${guarded.port}`;
    });

    afterAll(async () => {
      await http?.shutdown();
      await guarded?.shutdown();
    });

    const get = async (path: string, headers: Record<string, string> = {}, at = base) => {
      const res = await fetch(`${at}${path}`, { headers, redirect: 'manual' });
      return { status: res.status, location: res.headers.get('location'), body: res.headers.get('content-type')?.includes('json') ? ((await res.json()) as Record<string, unknown>) : await res.text() };
    };

    it('answers /api/v1/runs with the store\'s page and refuses bad filters with every problem', async () => {
      const { status, body } = await get(`/api/v1/runs?state=open&from=${new Date(T0 - M).toISOString()}&to=${T0 + 60 * M}`);
      expect(status).toBe(200);
      expect(body).toMatchObject({ total: 2, from: new Date(T0 - M).toISOString() });
      expect((body as { runs: RunRecord[] }).runs.map((r) => r.correlationId)).toEqual(['c-5', 'c-0']);
      expect(await get('/api/v1/runs?state=lost&limit=0&from=yesterday')).toEqual({
        status: 400,
        location: null,
        body: { error: 'invalid query', problems: ['from: not a time (ISO 8601 or epoch milliseconds): "yesterday"', 'limit: a whole number from 1 to 1000', 'state: must be one of open, completed, failed, deadline_missed, compensated'] },
      });
    });

    it('answers /api/v1/dead-letters with raw bytes as a text preview, cut at 2 KiB', async () => {
      const { body } = await get(`/api/v1/dead-letters?from=${T0}&to=${T0 + 10 * M}`);
      const letters = (body as { deadLetters: { rawPreview: string; rawBytes: number | null; rawTruncated: boolean; origin: { offset: string } }[] }).deadLetters;
      expect(letters.map((d) => [d.origin.offset, d.rawBytes, d.rawTruncated, d.rawPreview.length])).toEqual([
        ['4', 5_000, true, 2_048],
        ['3', null, false, 0],
        ['2', 7, false, 7],
        ['1', 25, false, 25],
      ]);
      expect(letters[2]!.rawPreview).toBe('<b>\ufffd\ufffd\u0000A');
    });

    it('sends a browser that follows an old /api/v1/traces link to the trace page; programs still get JSON', async () => {
      const page = await get('/api/v1/traces/c-1', { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
      expect([page.status, page.location]).toEqual([302, '/trace/c-1']);
      const json = await get('/api/v1/traces/c-1');
      expect(json.status).toBe(200);
      expect(json.body).toMatchObject({ correlationId: 'c-1', sloVerdicts: [] });
    });

    it('with api.protectReads, reads need the token (the page shell, /metrics and /healthz do not)', async () => {
      expect((await get('/api/v1/runs', {}, guardedBase)).status).toBe(401);
      expect((await get('/api/v1/dead-letters', { authorization: 'Bearer wrong' }, guardedBase)).status).toBe(401);
      expect((await get('/api/v1/runs', { authorization: `Bearer ${token}` }, guardedBase)).status).toBe(200);
      expect((await get('/api/v1/traces/c-1', {}, guardedBase)).status).toBe(401);
      expect((await get('/api/v1/traces/c-1', { accept: 'text/html' }, guardedBase)).status).toBe(302);
      expect((await get('/healthz', {}, guardedBase)).status).toBe(200);
      expect((await get('/metrics', {}, guardedBase)).status).toBe(200);
      expect([200, 503]).toContain((await get('/runs', {}, guardedBase)).status);
      // Without protectReads the same reads are open.
      expect((await get('/api/v1/dead-letters')).status).toBe(200);
    });
  });
});
