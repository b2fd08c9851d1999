/**
 * npm run bench:slo — SLO evaluation time for 20 SLOs × 4 burn-rate tiers over 10M runs
 * spread across 30 days, in ClickHouse.
 *
 * Loads 10M runs (5 workflows, 4 SLOs each → 40M SLO outcome rows) straight into
 * slo_run_outcomes (and its minute index), recounts slo_minutes once, then times:
 *   - the first cycle of a fresh engine (it catches up over the longest tier window), then
 *     one evaluation cycle per minute of event time (the per-minute counts of the longest tier
 *     window, the 30-day budget counts, and the pure evaluation of every SLO), several times;
 *   - the baseline in the same run: the same numbers counted straight from the outcomes
 *     (FINAL, one query with a countIf per window), which is what the per-minute table saves;
 *   - the recount a flush does for the minutes it touched.
 * Scale with BENCH_RUNS (default 10000000). A benchmark: it prints, it asserts nothing.
 */
import { printTable, runBench } from './report.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { Registry } from 'prom-client';
import { SloEngine } from '../src/slo/engine.ts';
import { SloMetrics } from '../src/slo/metrics.ts';
import { defaultTiers } from '../src/slo/burn-rate.ts';
import type { SloDefinition } from '../src/slo/types.ts';
import { store, unique } from '../test/support/services.ts';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 10_000_000);
const DAY = 86_400_000;
const PERIOD = 30 * DAY;
const log = (text: string) => process.stderr.write(`${text}\n`);
const seconds = (t: number) => `${((performance.now() - t) / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const db = unique('bench_slo');
  const ch = store(db);
  await ch.start();
  const end = Math.floor(Date.UTC(2026, 10, 25) / 60_000) * 60_000;
  const start = end - PERIOD;

  log(`loading ${RUNS} runs × 4 SLOs = ${RUNS * 4} outcome rows across 30 days…`);
  let t = performance.now();
  await ch.command(
    `INSERT INTO ${db}.slo_run_outcomes (slo, run_id, workflow, correlation_id, minute, due_ms, good, counted_minutes, version)
     SELECT concat('slo-', toString(wf * 4 + k)), concat('wf', toString(wf), ':c', toString(number)), concat('wf', toString(wf)),
            concat('c', toString(number)), toUInt32(intDiv(due, 60000)), due, (cityHash64(number, k) % 1000) >= 3, [toUInt32(intDiv(due, 60000))], 1
     FROM (SELECT number, number % 5 AS wf, toUInt64(${start} + intDiv(number * ${PERIOD}, ${RUNS})) AS due FROM system.numbers LIMIT ${RUNS})
     ARRAY JOIN [0, 1, 2, 3] AS k`,
  );
  // The minute index the recount finds a minute's runs through.
  await ch.command(
    `INSERT INTO ${db}.slo_outcomes (slo, minute, run_id, workflow, correlation_id, due_ms, good, version)
     SELECT slo, minute, run_id, workflow, correlation_id, due_ms, good, version FROM ${db}.slo_run_outcomes`,
  );
  const loadTime = seconds(t);
  t = performance.now();
  await ch.command(
    `INSERT INTO ${db}.slo_minutes (slo, minute, good, total, version)
     SELECT slo, minute, sum(good), count(), 1 FROM ${db}.slo_run_outcomes FINAL GROUP BY slo, minute`,
  );
  const recountAll = seconds(t);
  const [minuteRows] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM ${db}.slo_minutes`);

  const slos: SloDefinition[] = Array.from({ length: 20 }, (_, i) => ({
    name: `slo-${i}`,
    workflow: `wf${Math.floor(i / 4)}`,
    owner: 'bench',
    objective: 0.999,
    window: { kind: 'rolling', durationMs: PERIOD },
    indicator: { kind: 'completed-within', thresholdMs: 300_000, steps: ['a'] },
    alerting: { tiers: defaultTiers(PERIOD), minEvents: 20 },
    origin: 'bench',
  }));

  // A fresh engine first catches up over the longest tier window (3 days); then each cycle
  // evaluates the minute event time moved on by, which is what runs all day.
  let eventTime = end - 5 * 60_000;
  const engine = new SloEngine({
    slos,
    store: ch,
    eventTime: () => eventTime,
    sink: { signal: () => undefined },
    metrics: new SloMetrics(new Registry()),
    logger: silentLogger(),
    evaluateEvery: 60_000,
    maxCatchUpMs: 4 * DAY,
  });
  let c = performance.now();
  await engine.cycle();
  const catchUp = performance.now() - c;
  const cycles: number[] = [];
  for (let i = 0; i < 5; i++) {
    eventTime += 60_000;
    c = performance.now();
    await engine.cycle();
    cycles.push(performance.now() - c);
    if (engine.status().length !== 20 || engine.status()[0]!.at !== eventTime) throw new Error('the engine did not evaluate every SLO up to event time');
  }
  const one = engine.status('slo-0')[0]!;

  const windows = [3 * DAY, DAY, 6 * 3_600_000, 3_600_000];
  const baseline: number[] = [];
  for (let i = 0; i < 3; i++) {
    const c = performance.now();
    await ch.rows(
      `SELECT slo, ${windows.map((w, j) => `countIf(due_ms >= ${end - w}) AS t${j}, sumIf(good, due_ms >= ${end - w}) AS g${j}`).join(', ')}, count() AS t, sum(good) AS g
       FROM ${db}.slo_run_outcomes FINAL WHERE due_ms >= ${start} AND due_ms < ${end} GROUP BY slo`,
    );
    baseline.push(performance.now() - c);
  }

  t = performance.now();
  await ch.recountMinutes(new Map(slos.map((s) => [s.name, new Set([0, 1, 2, 3, 4].map((k) => end / 60_000 - 10 - k))])));
  const flushRecount = seconds(t);

  await ch.command(`DROP DATABASE IF EXISTS ${db}`);
  await ch.shutdown();

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rows: [string, string][] = [
    ['runs / SLOs / tiers', `${RUNS} / 20 / 4 (+ the 30-day budget window)`],
    ['load 40M outcome rows (setup)', loadTime],
    ['recount every minute from outcomes (setup)', `${recountAll} → ${minuteRows?.n} minute rows`],
    ['first cycle of a fresh engine (catch-up over 3 days)', `${catchUp.toFixed(0)} ms`],
    ['engine cycle (queries + evaluation), 5 runs', `median ${median(cycles).toFixed(0)} ms, min ${Math.min(...cycles).toFixed(0)} ms, max ${Math.max(...cycles).toFixed(0)} ms`],
    ['baseline: same counts from outcomes FINAL', `median ${median(baseline).toFixed(0)} ms`],
    ['engine / baseline', `${((median(cycles) / median(baseline)) * 100).toFixed(1)} %`],
    ['recount after a flush (20 SLOs × 5 minutes)', flushRecount],
    ['check: slo-0 over 30 days', `${one.budget.total} runs, SLI ${(one.budget.sli! * 100).toFixed(3)} %, budget left ${(one.budget.remainingRatio * 100).toFixed(1)} %`],
  ];
  printTable('seamwatch SLO evaluation benchmark', rows);
}

runBench(main);
