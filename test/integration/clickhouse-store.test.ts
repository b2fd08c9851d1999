import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quote, list } from '../../src/store/clickhouse/sql.ts';
import { MIGRATIONS } from '../../src/store/clickhouse/migrations.ts';
import type { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { ENGINES, ENGINE_NAMES, requireServices, store, unique, type Engine } from '../support/services.ts';
import type { RunRecord } from '../../src/domain/records.ts';

const HOSTILE = [
  "it's",
  "'); DROP DATABASE system; --",
  'back\\slash\\',
  '\\',
  "\\'",
  'new\nline\r\ttab',
  'nul\0byte',
  'unicode: Zürich — 東京 — 🚀',
  '{x:String}',
  '`backtick`',
  '"double"',
  '',
  '\b\f\v',
];

/** The versions the README says are tested. */
const VERSIONS: Record<Engine, RegExp> = { clickhouse: /^18\.16\./, embedded: /^26\.7\./ };

describe.each(ENGINES.map((e) => [ENGINE_NAMES[e], e] as const))('ClickHouse store on %s', (_name, engine) => {
  const database = unique('chs');
  let ch: ClickHouseStore;

  beforeAll(async () => {
    await requireServices();
    ch = store(database, engine);
    await ch.start();
  });

  afterAll(async () => {
    await ch.command(`DROP DATABASE IF EXISTS ${database}`);
    await ch.shutdown();
  });

  it('runs on the ClickHouse version the README names', async () => {
    const [row] = await ch.rows<{ v: string }>('SELECT version() AS v');
    expect(row!.v).toMatch(VERSIONS[engine]);
    expect(ch.kind).toBe(engine);
  });

  it('answers alike on both engines: 64-bit integers quoted in JSON, 32-bit ones not', async () => {
    const [row] = await ch.rows('SELECT toUInt64(18446744073709551615) AS big, toUInt32(7) AS small, toDateTime(86400, \'UTC\') AS t');
    expect(row).toEqual({ big: '18446744073709551615', small: 7, t: '1970-01-02 00:00:00' });
  });

  it.each(HOSTILE.map((s) => [JSON.stringify(s), s]))('round-trips the hostile string %s through quote()', async (_name, value) => {
    const [row] = await ch.rows<{ v: string; n: string }>(`SELECT ${quote(value)} AS v, length(${quote(value)}) AS n`);
    expect(row!.v).toBe(value);
    expect(Number(row!.n)).toBe(Buffer.byteLength(value));
  });

  it('matches hostile strings in IN lists exactly', async () => {
    const [row] = await ch.rows<{ hits: string }>(
      `SELECT countIf(x IN ${list(HOSTILE)}) AS hits FROM (SELECT arrayJoin(${`[${HOSTILE.map(quote).join(', ')}]`}) AS x)`,
    );
    expect(Number(row!.hits)).toBe(HOSTILE.length);
  });

  it('applies migrations once and is idempotent on a second start', async () => {
    const again = store(database, engine);
    await again.start();
    await again.shutdown();
    const applied = await ch.rows<{ version: number }>(`SELECT version FROM ${database}.schema_migrations FINAL ORDER BY version`);
    expect(applied.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
    const tables = await ch.rows<{ name: string }>(`SELECT name FROM system.tables WHERE database = '${database}' ORDER BY name`);
    expect(tables.map((t) => t.name)).toEqual(['dead_letters', 'events', 'runs', 'schema_migrations', 'slo_minutes', 'slo_outcomes', 'spans', 'state_documents']);
  });

  it('stores every row of a batch larger than one insert statement (the embedded engine splits it)', async () => {
    const events = Array.from({ length: 25_001 }, (_, i) => ({
      source: 'crm',
      id: `big-${i}`,
      type: 'subscription.upgraded',
      time: Date.UTC(2026, 10, 1) + i,
      correlationId: `big-${i % 5_000}`,
      subject: '',
      data: '{}',
      error: {},
      origin: { topic: 'big', partition: i % 4, offset: String(i) },
      receivedAt: Date.UTC(2026, 10, 1),
    }));
    await ch.write({ events, runs: [], spans: [], deadLetters: [], sloOutcomes: [] });
    const [row] = await ch.rows<{ n: string; last: string }>(`SELECT count() AS n, max(offset) AS last FROM ${database}.events WHERE topic = 'big'`);
    expect([Number(row!.n), Number(row!.last)]).toEqual([25_001, 25_000]);
  });

  it('keeps the newest version of a run however often it is written, and a trace finds it', async () => {
    const run = (version: number, state: RunRecord['state']): RunRecord => ({
      runId: "plan-upgrade:it's-a-trap",
      workflow: 'plan-upgrade',
      owner: 'billing-platform',
      correlationId: "it's-a-trap",
      partition: 2,
      state,
      startedAt: Date.UTC(2026, 10, 1),
      deadlineAt: Date.UTC(2026, 10, 1) + 300_000,
      completedAt: 0,
      deadlineMissed: false,
      missingSteps: ['invoice-updated'],
      failedSteps: [],
      eventCount: 1,
      lastEventAt: Date.UTC(2026, 10, 1),
      version,
    });
    const batch = (r: RunRecord) => ({ events: [], spans: [], deadLetters: [], sloOutcomes: [], runs: [r] });
    await ch.write(batch(run(2, 'completed')));
    await ch.write(batch(run(1, 'open')));
    await ch.write(batch(run(2, 'completed')));
    const trace = await ch.trace("it's-a-trap");
    expect(trace.runs.map((r) => [r.state, r.version])).toEqual([['completed', 2]]);
    const [count] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM ${database}.runs FINAL`);
    expect(Number(count!.n)).toBe(1);
  });

  it('counts SLO outcomes per minute exactly, however often an outcome is written, and cuts ranges at the minute', async () => {
    const m0 = Math.floor(Date.UTC(2026, 10, 2, 10, 0) / 60_000);
    const outcome = (run: number, minute: number, good: boolean, version = 1) => ({
      slo: "it's-an-slo",
      workflow: 'plan-upgrade',
      runId: `plan-upgrade:r${run}`,
      correlationId: `r${run}`,
      due: minute * 60_000 + 1_000,
      good,
      version,
    });
    const write = (sloOutcomes: ReturnType<typeof outcome>[]) => ch.write({ events: [], runs: [], spans: [], deadLetters: [], sloOutcomes });
    await write([outcome(1, m0, true), outcome(2, m0, false), outcome(3, m0 + 1, true), outcome(4, m0 + 59, true), outcome(5, m0 + 61, true)]);
    // A redelivery writes the same outcome again; a re-judged run replaces its verdict.
    await write([outcome(1, m0, true), outcome(2, m0, true, 2)]);
    const slo = "it's-an-slo";
    const minutes = await ch.sloMinutes([{ slo, fromMinute: m0, toMinute: m0 + 60 }]);
    expect(minutes.get(slo)).toEqual([
      { minute: m0, good: 2, total: 2 },
      { minute: m0 + 1, good: 1, total: 1 },
      { minute: m0 + 59, good: 1, total: 1 },
    ]);
    expect(await ch.sloCounts([{ slo, fromMinute: m0 + 1, toMinute: m0 + 62 }])).toEqual(new Map([[slo, { good: 3, total: 3 }]]));
    // An hourly series whose range ends inside the second hour counts only the minutes before the end.
    const hourStart = Math.floor(m0 / 60) * 60;
    expect(await ch.sloSeries({ slo, fromMinute: m0, toMinute: m0 + 61 }, 60)).toEqual([{ minute: hourStart, good: 4, total: 4 }]);
  });
});
