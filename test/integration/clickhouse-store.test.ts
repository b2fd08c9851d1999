import { beforeAll, describe, expect, it } from 'vitest';
import { quote, list } from '../../src/store/clickhouse/sql.ts';
import { MIGRATIONS, migrationTable } from '../../src/store/clickhouse/migrations.ts';
import type { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { ENGINES, ENGINE_NAMES, store, unique, type Engine } from '../support/services.ts';
import type { EventRecord, RunRecord, SpanRecord } from '../../src/domain/records.ts';
import { storeSuite } from '../support/suite.ts';

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
  const stored = storeSuite('chs', engine);
  const { database } = stored;
  let ch: ClickHouseStore;
  beforeAll(() => {
    ch = stored.ch;
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
    expect(tables.map((t) => t.name)).toEqual(['alert_changes', 'control_audit', 'dead_letters', 'events', 'notifications', 'paging_pauses', 'redeliveries', 'report_claims', 'runs', 'schema_migrations', 'slo_definitions', 'slo_minutes', 'slo_outcomes', 'slo_run_outcomes', 'spans', 'state_documents']);
  });

  it('stores alert changes and notifications as rows, once each however often a replay writes them', async () => {
    const change = { fingerprint: 'f1', kind: 'firing' as const, detector: 'dup', detectorKind: 'duplicateEffects', team: "it's", severity: 'critical', workflow: 'w', summary: 'two invoices', correlationId: 'c', startsAt: 1_795_165_200_000, endsAt: 0, recordedAt: 1_795_165_201_000 };
    const notification = { receiver: 'pd', groupKey: '{}:{team="billing"}', fingerprint: 'f1', state: 'firing' as const, sentAt: 1_795_165_202_000 };
    await ch.writeAlertRecords({ changes: [change], notifications: [notification] });
    await ch.writeAlertRecords({ changes: [{ ...change, recordedAt: change.recordedAt + 5 }], notifications: [notification] });
    const changes = await ch.rows<{ n: string; team: string; starts_at: string }>(`SELECT count() AS n, any(team) AS team, any(starts_at) AS starts_at FROM ${database}.alert_changes FINAL`);
    expect(changes).toEqual([{ n: '1', team: "it's", starts_at: '2026-11-20 09:00:00' }]);
    const sent = await ch.rows<{ n: string }>(`SELECT count() AS n FROM ${database}.notifications FINAL`);
    expect(sent).toEqual([{ n: '1' }]);
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

  it('stores events, runs and spans exactly as given: hostile and long strings, a negative span offset, 64-bit offsets', async () => {
    const c = `exact-${engine}`;
    const t0 = Date.UTC(2026, 10, 2);
    const long = `{"note":${JSON.stringify('Zürich 東京 🚀 '.repeat(40))}}`;
    const events: EventRecord[] = HOSTILE.map((h, i) => ({
      source: 'crm',
      id: `e-${i}-${h}`,
      type: h || 'empty',
      time: t0 + i,
      correlationId: c,
      subject: h,
      data: i === 0 ? long : JSON.stringify({ h }),
      error: i === 1 ? { code: h, class: 'transient', message: long } : {},
      origin: { topic: 'exact', partition: 3, offset: i === 2 ? '9007199254740993' : String(i) },
      receivedAt: t0 + 1_000,
    }));
    const run: RunRecord = {
      runId: `plan-upgrade:${c}`, workflow: 'plan-upgrade', owner: 'billing-platform', correlationId: c, partition: 3, state: 'deadline_missed',
      startedAt: t0, deadlineAt: t0 + 300_000, completedAt: 0, deadlineMissed: true, missingSteps: HOSTILE, failedSteps: [long], eventCount: 13,
      lastEventAt: t0 + 12, version: 8_990_000_000_000_000,
    };
    const span: SpanRecord = {
      runId: run.runId, workflow: 'plan-upgrade', correlationId: c, step: 'unicode: Zürich — 東京 — 🚀', kind: 'compensation', status: 'failed',
      source: 'billing', eventId: long, startAt: t0 + 5, endAt: t0 + 2, sinceTriggerMs: -3, runStartedAt: t0, errorCode: 'nul\0byte', errorClass: '', version: 2 ** 40 + 1,
    };
    await ch.write({ events, runs: [run], spans: [span], deadLetters: [], sloOutcomes: [] });
    const trace = await ch.trace(c);
    const byId = (a: EventRecord, b: EventRecord) => a.id.localeCompare(b.id);
    expect([...trace.events].sort(byId)).toEqual([...events].sort(byId));
    expect(trace.runs).toEqual([run]);
    expect(trace.spans).toEqual([span]);
    const [big] = await ch.rows<{ o: string; duration: string }>(
      `SELECT toString(offset) AS o, (SELECT toString(duration_ms) FROM ${database}.spans WHERE correlation_id = ${quote(c)}) AS duration
       FROM ${database}.events WHERE correlation_id = ${quote(c)} AND offset > 1000`,
    );
    expect(big).toEqual({ o: '9007199254740993', duration: '0' });
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
    const [count] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM ${database}.runs FINAL WHERE correlation_id = ${quote("it's-a-trap")}`);
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

  it('counts a run once when its due time moves to another minute, also across a month: the minute it left loses it', async () => {
    const slo = 'moved-due';
    // Nov 30 23:58 and Dec 1 00:02: a trigger that arrives late moves the run's due time back.
    const later = Math.floor(Date.UTC(2026, 11, 1, 0, 2) / 60_000);
    const earlier = Math.floor(Date.UTC(2026, 10, 30, 23, 58) / 60_000);
    const outcome = (minute: number, good: boolean, version: number) => ({
      slo, workflow: 'plan-upgrade', runId: 'plan-upgrade:moved', correlationId: 'moved', due: minute * 60_000 + 500, good, version,
    });
    const write = (o: ReturnType<typeof outcome>) => ch.write({ events: [], runs: [], spans: [], deadLetters: [], sloOutcomes: [o] });
    await write(outcome(later, false, 1));
    await write(outcome(earlier, true, 2));
    // A stale redelivery of the first verdict must not move it back.
    await write(outcome(later, false, 1));
    const range = { slo, fromMinute: earlier - 10, toMinute: later + 10 };
    expect((await ch.sloMinutes([range])).get(slo)).toEqual([{ minute: earlier, good: 1, total: 1 }]);
    expect(await ch.sloCounts([range])).toEqual(new Map([[slo, { good: 1, total: 1 }]]));
    expect(await ch.sloSeries(range, 60)).toEqual([{ minute: Math.floor(earlier / 60) * 60, good: 1, total: 1 }]);
  });

  it('upgrades a database of the old shape: a run counted at two minutes before the upgrade counts once after it', async () => {
    const old = unique('chs_old');
    const legacy = store(old);
    try {
      // The schema as it was before migration 4, with what the old key let happen: one run whose
      // due time moved, stored at both minutes and counted in both.
      await legacy.command(`CREATE DATABASE ${old}`);
      await legacy.command(migrationTable(old));
      for (const m of MIGRATIONS.filter((m) => m.version < 4)) {
        for (const statement of m.statements(old)) await legacy.command(statement);
        await legacy.command(`INSERT INTO ${old}.schema_migrations (version, name, applied_at) VALUES (${m.version}, ${quote(m.name)}, now())`);
      }
      const m0 = Math.floor(Date.UTC(2026, 10, 3, 8, 0) / 60_000);
      await legacy.command(
        `INSERT INTO ${old}.slo_outcomes (slo, minute, run_id, workflow, correlation_id, due_ms, good, version) VALUES
         ('s', ${m0 + 4}, 'w:moved', 'w', 'moved', ${(m0 + 4) * 60_000}, 0, 1),
         ('s', ${m0}, 'w:moved', 'w', 'moved', ${m0 * 60_000}, 1, 2),
         ('s', ${m0}, 'w:other', 'w', 'other', ${m0 * 60_000}, 1, 1)`,
      );
      await legacy.command(`INSERT INTO ${old}.slo_minutes (slo, minute, good, total, version) VALUES ('s', ${m0}, 2, 2, 5), ('s', ${m0 + 4}, 0, 1, 5)`);
      const range = { slo: 's', fromMinute: m0, toMinute: m0 + 10 };
      expect(await legacy.sloCounts([range])).toEqual(new Map([['s', { good: 2, total: 3 }]]));

      await legacy.start();
      expect(await legacy.sloCounts([range])).toEqual(new Map([['s', { good: 2, total: 2 }]]));
      expect((await legacy.sloMinutes([range])).get('s')).toEqual([{ minute: m0, good: 2, total: 2 }]);
      // And it keeps counting right afterwards: the moved run moves back, once.
      const back = { slo: 's', workflow: 'w', runId: 'w:moved', correlationId: 'moved', due: (m0 + 4) * 60_000, good: false, version: 3 };
      await legacy.write({ events: [], runs: [], spans: [], deadLetters: [], sloOutcomes: [back] });
      expect((await legacy.sloMinutes([range])).get('s')).toEqual([
        { minute: m0, good: 1, total: 1 },
        { minute: m0 + 4, good: 0, total: 1 },
      ]);
    } finally {
      await legacy.command(`DROP DATABASE IF EXISTS ${old}`);
      await legacy.shutdown();
    }
  });

  it('repairs, on the next write of a run, the minute a write that died before its recount left counting it', async () => {
    const slo = 'died-half-way';
    const m1 = Math.floor(Date.UTC(2026, 10, 4, 9, 0) / 60_000);
    const m2 = m1 + 3;
    const outcome = (minute: number, version: number) => ({ slo, workflow: 'w', runId: 'w:r', correlationId: 'r', due: minute * 60_000, good: true, version });
    await ch.write({ events: [], runs: [], spans: [], deadLetters: [], sloOutcomes: [outcome(m1, 1)] });
    // The write that moved the run to m2 stored the verdict, then died before the recount.
    const moved = outcome(m2, 2);
    await ch.command(`INSERT INTO ${database}.slo_outcomes (slo, minute, run_id, workflow, correlation_id, due_ms, good, version) VALUES (${quote(slo)}, ${m2}, 'w:r', 'w', 'r', ${moved.due}, 1, 2)`);
    await ch.command(`INSERT INTO ${database}.slo_run_outcomes (slo, run_id, workflow, correlation_id, minute, due_ms, good, counted_minutes, version) VALUES (${quote(slo)}, 'w:r', 'w', 'r', ${m2}, ${moved.due}, 1, [${m1}, ${m2}], 2)`);
    const range = { slo, fromMinute: m1, toMinute: m2 + 1 };
    expect((await ch.sloMinutes([range])).get(slo)).toEqual([{ minute: m1, good: 1, total: 1 }]);
    // The batch is written again (its offsets were never committed).
    await ch.write({ events: [], runs: [], spans: [], deadLetters: [], sloOutcomes: [moved] });
    expect((await ch.sloMinutes([range])).get(slo)).toEqual([{ minute: m2, good: 1, total: 1 }]);
  });
});
