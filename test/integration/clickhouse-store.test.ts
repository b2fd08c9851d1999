import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quote, list } from '../../src/store/clickhouse/sql.ts';
import { MIGRATIONS } from '../../src/store/clickhouse/migrations.ts';
import type { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { requireServices, store, unique } from '../support/services.ts';
import type { RunRecord } from '../../src/stitch/records.ts';

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

describe('ClickHouse store on the real server (18.16)', () => {
  const database = unique('chs');
  let ch: ClickHouseStore;

  beforeAll(async () => {
    await requireServices();
    ch = store(database);
    await ch.start();
  });

  afterAll(async () => {
    await ch.command(`DROP DATABASE IF EXISTS ${database}`);
    await ch.shutdown();
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
    const again = store(database);
    await again.start();
    await again.shutdown();
    const applied = await ch.rows<{ version: number }>(`SELECT version FROM ${database}.schema_migrations FINAL ORDER BY version`);
    expect(applied.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
    const tables = await ch.rows<{ name: string }>(`SELECT name FROM system.tables WHERE database = '${database}' ORDER BY name`);
    expect(tables.map((t) => t.name)).toEqual(['dead_letters', 'events', 'runs', 'schema_migrations', 'slo_minutes', 'slo_outcomes', 'spans']);
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
});
