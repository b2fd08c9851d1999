import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upgradeSyncSloYaml } from '../support/slo-fixtures.ts';
import { createServer, type Server } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { previewHtml } from '../support/dashboard-preview.ts';
import type { AddressInfo } from 'node:net';
import type { Admin, Producer } from 'kafkajs';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { parseConfigText } from '../../src/config/load.ts';
import { Seamwatch } from '../../src/app.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import type { WebhookPayload } from '../../src/alerts/receivers/webhook-payload.ts';
import { scenarioConfig, T0, type ScenarioTopics } from '../support/scenario.ts';
import { SCENARIO_ALERTS, SCENARIO_DETECTORS, alertScenario, heartbeats } from '../support/alert-scenario.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, createTopics, embeddedPath, groupLag, kafka, requireServices, unique, waitFor } from '../support/services.ts';
import type { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { expandPanelSql, MACRO_NAMES, type GrafanaRange, type VariableValues } from '../support/grafana-clickhouse.ts';
import { ALL_QUERIES, INCIDENT_QUERIES, PIPELINE_QUERIES, SLO_QUERIES, TRACE_QUERIES, WORKFLOW_QUERIES, type PanelQuery } from '../../dashboards/src/queries.ts';
import { burnRate, windowCounts } from '../../src/slo/burn-rate.ts';
import { budgetStatus } from '../../src/slo/budget.ts';
import { windowStart } from '../../src/slo/window.ts';
import { allDashboards, panelQueriesOf, variableQueriesOf } from '../../dashboards/src/dashboards.ts';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;

/**
 * The ClickHouse engines every panel's SQL must run on. seamwatch writes to the engine through
 * its own store (`store` is the YAML of `store:`); `reader` reads panels back with the column
 * types, as Grafana's plugin would (an embedded engine can read through the app's own store).
 * A second engine is one more entry.
 */
interface Engine {
  name: string;
  store: (database: string) => string;
  reader: (app: Seamwatch) => { query: (sql: string) => Promise<Result>; command: (sql: string) => Promise<void>; close: () => Promise<void> };
}

function serverReader(): ReturnType<Engine['reader']> {
  const client: ClickHouseClient = createClient({ url: CLICKHOUSE_URL });
  return {
    query: async (sql) => (await (await client.query({ query: sql, format: 'JSON' })).json()) as unknown as Result,
    command: async (sql) => void (await client.command({ query: sql })),
    close: () => client.close(),
  };
}

/** The embedded engine is read through the app's own store: one process holds its directory. */
function embeddedReader(app: Seamwatch): ReturnType<Engine['reader']> {
  const store = app.store as ClickHouseStore;
  return {
    query: async (sql) => (await store.queryJson(sql)) as Result,
    command: (sql) => store.command(sql),
    close: async () => undefined,
  };
}

const ENGINES: Engine[] = [
  { name: 'ClickHouse 18.16 server', store: (db) => `{ clickhouse: { url: "${CLICKHOUSE_URL}", database: ${db} } }`, reader: serverReader },
  { name: 'embedded ClickHouse 26.7 (chdb)', store: (db) => `{ kind: embedded, embedded: { path: "${embeddedPath()}", database: ${db} } }`, reader: embeddedReader },
];

const SLO = upgradeSyncSloYaml('99%');

interface Result {
  meta: { name: string; type: string }[];
  data: Record<string, unknown>[];
}

describe.each(ENGINES)('Grafana panels on $name, seeded by the real pipeline', (engine) => {
  const id = unique('dash');
  const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  const all = Object.values(topics);
  let admin: Admin;
  let producer: Producer;
  let app: Seamwatch;
  let reader: ReturnType<Engine['reader']>;
  let hook: Server;
  const delivered: WebhookPayload[] = [];
  const startedAt = Date.now();

  const api = async <T>(path: string): Promise<T> => (await (await fetch(`http://127.0.0.1:${app.http.port}${path}`)).json()) as T;
  const run = async (query: PanelQuery, range: GrafanaRange, variables: VariableValues): Promise<Result> => {
    return reader.query(expandPanelSql(query.sql, range, variables));
  };

  beforeAll(async () => {
    await requireServices();
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        delivered.push(JSON.parse(body) as WebhookPayload);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    admin = kafka().admin();
    await admin.connect();
    await createTopics(admin, all);
    producer = kafka().producer();
    await producer.connect();
    const text = scenarioConfig(topics, {
      database: id,
      groupId: `${id}-group`,
      brokers: KAFKA_BROKERS,
      clickhouseUrl: CLICKHOUSE_URL,
      pipeline: '{ flushInterval: 100ms, idleAdvanceAfter: 2s, sloEvaluateEvery: 100ms }',
      slos: `${SLO}${SCENARIO_DETECTORS}receivers:
  - name: ops-hook
    webhook: { url: "${hookUrl}" }
routes:
  receiver: ops-hook
  group_by: [team, detector]
  group_wait: 100ms
  group_interval: 200ms
`,
    }).replace(/^store:\n  clickhouse:.*$/m, `store: ${engine.store(id)}`);
    app = new Seamwatch({ config: parseConfigText(text, 'test'), logger: silentLogger() });
    await app.start();
    reader = engine.reader(app);

    const stream = alertScenario(topics);
    // One poisoned message, so the dead-letter panels have something to count.
    stream.get(topics.crm)!.push({ key: 'bad', value: 'not json {' });
    for (const [topic, messages] of stream) await producer.send({ topic, messages });
    for (const [topic, messages] of heartbeats(topics, T0 + 5 * H)) await producer.send({ topic, messages });
    await waitFor('the scenario alerts', async () => {
      const body = await api<{ alerts: { state: string; labels: Record<string, string>; annotations: Record<string, string> }[] }>('/api/v1/alerts');
      const seen = body.alerts.map((a) => `${a.labels['detector']} ${a.annotations['correlation_id'] ?? a.annotations['business_key'] ?? ''} ${a.state}`).sort();
      return JSON.stringify(seen) === JSON.stringify(SCENARIO_ALERTS);
    }, 60_000);
    await waitFor('the stream to be committed', async () => (await groupLag(admin, `${id}-group`, all)) === 0, 30_000);
    await waitFor('every upgrade counted by the SLO', async () => (await api<{ runs?: { total: number } }>('/api/v1/slos/upgrade-sync-5m')).runs?.total === 4, 30_000);
    // Every alert but one: up-fail's missed deadline is held back by its partial failure (run precedence).
    await waitFor('every page delivered', async () => delivered.flatMap((d) => d.alerts).length >= SCENARIO_ALERTS.length - 1, 30_000);
    // The alert history is written in batches, off the alerting path.
    await app.alertHistory.flush();
  });

  afterAll(async () => {
    await app?.shutdown();
    await producer?.disconnect();
    await reader?.command(`DROP DATABASE IF EXISTS ${id}`);
    await reader?.close();
    await admin?.deleteTopics({ topics: [...all, ...all.map((t) => `${t}.dlq`)] }).catch(() => undefined);
    await admin?.disconnect();
    await new Promise((r) => hook?.close(r));
  });

  /** Wide enough for event time (the scenario's day) and wall-clock columns (received, sent). */
  const wide = (): GrafanaRange => ({ from: T0 - H, to: Date.now() + M, intervalMs: 10 * M });
  const variables = (): VariableValues => ({ database: id, workflow: ['plan-upgrade', 'support-ticket'], slo: 'upgrade-sync-5m', correlation_id: 'up-fail' });

  it('every panel of every dashboard has its SQL here, and it expands the same whatever order the macros are applied in', () => {
    expect(panelQueriesOf().map((q) => q.id).sort()).toEqual(ALL_QUERIES.map((q) => q.id).sort());
    for (const query of ALL_QUERIES) {
      // toStartOfInterval and the *_ms macros (fromUnixTimestamp64Milli) do not exist on 18.16.
      expect(query.sql, query.id).not.toMatch(/\$__timeInterval|_ms\(|\$__(from|to)Time_ms|toStartOfInterval|DateTime64/);
      const range = wide();
      expect(expandPanelSql(query.sql, range, variables(), [...MACRO_NAMES].reverse()), query.id).toBe(expandPanelSql(query.sql, range, variables()));
      expect(expandPanelSql(query.sql, range, variables()), query.id).not.toMatch(/\$/);
    }
  });

  it('runs every panel and returns the columns each panel reads; time series start with a DateTime time column, in order', async () => {
    const empty: string[] = [];
    const results = new Map<string, Result>();
    for (const query of ALL_QUERIES) {
      const range = query.id.startsWith('slo.') ? { from: T0 - H, to: T0 + 6 * H, intervalMs: M } : wide();
      const result = await run(query, range, variables());
      results.set(query.sql.trim(), result);
      expect(result.meta.map((m) => m.name), query.id).toEqual(expect.arrayContaining(query.columns));
      if (query.format === 'timeseries') {
        expect(result.meta[0], query.id).toMatchObject({ name: 'time' });
        expect(result.meta[0]!.type, query.id).toMatch(/^DateTime/);
        const times = result.data.map((r) => String(r['time']));
        expect(times, query.id).toEqual([...times].sort());
      }
      if (result.data.length === 0) empty.push(query.id);
    }
    const options = [];
    for (const sql of variableQueriesOf()) options.push((await run({ id: 'variable', format: 'table', sql, columns: [] }, wide(), variables())).data.map((r) => Object.values(r)[0]));
    expect(options).toEqual(expect.arrayContaining([['plan-upgrade', 'support-ticket'], ['upgrade-sync-5m']]));
    // Every panel shows something for this scenario.
    expect(empty).toEqual([]);
    // For a person to look at: SEAMWATCH_DASHBOARD_PREVIEW=<dir> writes an HTML preview per dashboard.
    const previewDir = process.env['SEAMWATCH_DASHBOARD_PREVIEW'];
    if (previewDir) {
      mkdirSync(previewDir, { recursive: true });
      for (const [file, dashboard] of Object.entries(allDashboards())) {
        writeFileSync(join(previewDir, file.replace(/\.json$/, '.html')), previewHtml(dashboard, (sql) => results.get(sql), { slo: 'upgrade-sync-5m' }));
      }
    }
  });

  it('SLO panels: the SLI and the error budget equal /api/v1/slos for the same moment', async () => {
    const status = await api<{ sli: number; at: string; runs: { total: number; bad: number }; errorBudget: { remainingRatio: number; remainingRuns: number } }>('/api/v1/slos/upgrade-sync-5m');
    const at = Date.parse(status.at);
    const slo = app.config.slos[0]!;
    const range = { from: at - 6 * H, to: at, intervalMs: M };
    for (const query of [SLO_QUERIES.status, SLO_QUERIES.one]) {
      const [row] = (await run(query, range, variables())).data;
      expect(row, query.id).toMatchObject({ slo: 'upgrade-sync-5m', objective: 0.99, total: '4', bad: String(status.runs.bad) });
      expect(Number(row!['sli'])).toBeCloseTo(status.sli, 12);
      expect(Number(row!['budget_remaining_ratio'])).toBeCloseTo(status.errorBudget.remainingRatio, 9);
      expect(Number(row!['budget_remaining_runs'])).toBeCloseTo(status.errorBudget.remainingRuns, 9);
    }
    expect(status.runs).toEqual({ total: 4, bad: 2 });
    // At every minute edge the upgrades fall due on (T0+5m … T0+8m), and between them, the
    // panel counts what the SLO engine's own window and budget math count at that moment.
    for (const to of [5, 6, 7, 7.5, 8, 9].map((m) => T0 + m * M)) {
      const endMinute = Math.floor(to / M);
      const counts = (await app.store.sloCounts([{ slo: slo.name, fromMinute: Math.ceil(windowStart(slo.window, endMinute * M) / M), toMinute: endMinute }])).get(slo.name)!;
      const expected = budgetStatus(slo.objective, counts);
      const [row] = (await run(SLO_QUERIES.one, { from: to - H, to, intervalMs: M }, variables())).data;
      expect([Number(row!['total']), Number(row!['bad'])], new Date(to).toISOString()).toEqual([expected.total, expected.bad]);
      expect(row!['sli'] === null ? null : Number(row!['sli'])).toBe(expected.sli);
      expect(Number(row!['budget_remaining_ratio'])).toBeCloseTo(expected.remainingRatio, 9);
    }
    const goodBad = (await run(SLO_QUERIES.goodBad, range, variables())).data;
    expect([goodBad.reduce((n, r) => n + Number(r['good']), 0), goodBad.reduce((n, r) => n + Number(r['bad']), 0)]).toEqual([2, 2]);
    // Each tier's burn at each bucket end equals what the SLO engine's own window math gives.
    const series = (await app.store.sloMinutes([{ slo: slo.name, fromMinute: 0, toMinute: Math.floor(at / M) }])).get(slo.name)!;
    let burn: Record<string, unknown>[] = [];
    // A 1-minute and a 5-minute interval: points fall on bucket ends either way.
    for (const intervalMs of [5 * M, M]) {
      burn = (await run(SLO_QUERIES.burn, { from: T0, to: T0 + 2 * H, intervalMs }, variables())).data;
      expect(new Set(burn.map((r) => r['tier']))).toEqual(new Set(slo.alerting.tiers.map((t) => t.name)));
      for (const row of burn) {
        const tier = slo.alerting.tiers.find((t) => t.name === row['tier'])!;
        const endMinute = Date.parse(`${String(row['time']).replace(' ', 'T')}Z`) / M;
        expect(Number(row['threshold'])).toBeCloseTo(tier.factor, 9);
        expect(Number(row['burn_rate']), `${tier.name} at ${String(row['time'])}`).toBeCloseTo(burnRate(windowCounts(series, endMinute, tier.longWindowMs), slo.objective), 9);
        expect(endMinute % (intervalMs / M)).toBe(0);
      }
    }
    // Two of four upgrades bad against a 1 % budget: a burn of 50 while all four are in the hour.
    expect(Math.max(...burn.filter((r) => r['tier'] === slo.alerting.tiers[0]!.name).map((r) => Number(r['burn_rate'])))).toBeGreaterThanOrEqual(50);
  });

  it('workflow panels count each run once, as the runs table does', async () => {
    const rows = (await run(WORKFLOW_QUERIES.runsByState, wide(), variables())).data;
    const byState = new Map<string, number>();
    for (const r of rows) byState.set(`${String(r['workflow'])} ${String(r['state'])}`, (byState.get(`${String(r['workflow'])} ${String(r['state'])}`) ?? 0) + Number(r['runs']));
    const truth = (await reader.query(`SELECT workflow, toString(state) AS state, count() AS n FROM (SELECT workflow, state FROM ${id}.runs ORDER BY version DESC LIMIT 1 BY run_id) GROUP BY workflow, state`)).data as { workflow: string; state: string; n: string }[];
    expect(Object.fromEntries(byState)).toEqual(Object.fromEntries(truth.map((t) => [`${t.workflow} ${t.state}`, Number(t.n)])));
    expect([...byState.values()].reduce((a, b) => a + b, 0)).toBe(6);
    const funnel = (await run(WORKFLOW_QUERIES.funnel, wide(), variables())).data;
    expect(funnel.find((r) => r['step'] === 'plan-upgrade · invoice-updated')?.['runs']).toBe('4');
    const failing = (await run(WORKFLOW_QUERIES.failingSteps, wide(), variables())).data;
    expect(failing[0]).toMatchObject({ workflow: 'plan-upgrade', step: 'entitlement-activated', error_code: 'card_declined', failures: '1' });
    const dead = (await run(WORKFLOW_QUERIES.deadLetters, wide(), variables())).data;
    expect(dead).toEqual([expect.objectContaining({ reason: 'not-json', topic: topics.crm, dead_letters: '1' })]);
    expect((await run(PIPELINE_QUERIES.deadLetters, wide(), variables())).data.reduce((n, r) => n + Number(r['dead_letters']), 0)).toBe(1);
  });

  it('incident panels agree with /api/v1/alerts and with the notifications the receiver got', async () => {
    const body = await api<{ alerts: { fingerprint: string; state: string; labels: Record<string, string> }[] }>('/api/v1/alerts');
    const firing = body.alerts.filter((a) => a.state === 'firing').map((a) => a.fingerprint).sort();
    const panel = (await run(INCIDENT_QUERIES.firing, wide(), variables())).data;
    expect(panel.map((r) => String(r['fingerprint'])).sort()).toEqual(firing);
    const stuck = (await run(INCIDENT_QUERIES.stuck, wide(), variables())).data;
    expect(stuck.map((r) => r['correlation_id'])).toEqual(['tk-stuck']);
    expect(Number(stuck[0]!['age_s'])).toBeGreaterThan(4 * 3600);
    const duplicates = (await run(INCIDENT_QUERIES.duplicates, wide(), variables())).data;
    expect(duplicates.map((r) => r['detector'])).toEqual(['duplicate-invoice']);
    const sent = delivered.flatMap((d) => d.alerts.map((a) => `${a.fingerprint} ${a.status}`));
    const totals = (await run(INCIDENT_QUERIES.pageTotals, wide(), variables())).data;
    expect(totals).toEqual([{ receiver: 'ops-hook', triggered: String(sent.filter((s) => s.endsWith('firing')).length), resolved: String(sent.filter((s) => s.endsWith('resolved')).length) }]);
    const overTime = (await run(INCIDENT_QUERIES.alertsOverTime, wide(), variables())).data;
    expect(overTime.reduce((n, r) => n + Number(r['alerts']), 0)).toBe(SCENARIO_ALERTS.length);
  });

  it('trace lookup shows the same events, steps and verdict as /api/v1/traces', async () => {
    const trace = await api<{ runs: { state: string }[]; spans: unknown[]; events: unknown[] }>('/api/v1/traces/up-fail');
    const verdict = (await run(TRACE_QUERIES.verdict, wide(), variables())).data;
    expect(verdict.map((r) => r['verdict'])).toEqual(trace.runs.map((r) => r.state));
    expect((await run(TRACE_QUERIES.steps, wide(), variables())).data).toHaveLength(trace.spans.length);
    const events = (await run(TRACE_QUERIES.events, wide(), variables())).data;
    expect(events).toHaveLength(trace.events.length);
    expect(events.map((e) => e['type'])).toEqual(['subscription.upgraded', 'invoice.updated', 'entitlement.failed']);
    const alerts = (await run(TRACE_QUERIES.alerts, wide(), variables())).data;
    expect(alerts.map((a) => `${String(a['detector'])} ${String(a['change'])}`)).toEqual(expect.arrayContaining(['charged-not-entitled firing', 'upgrade-late firing']));
  });

  it('pipeline panels count the events seamwatch received, once each', async () => {
    const intake = (await run(PIPELINE_QUERIES.intake, wide(), variables())).data;
    const [stored] = (await reader.query(`SELECT count() AS n FROM ${id}.events FINAL`)).data as { n: string }[];
    expect(intake.reduce((n, r) => n + Number(r['events_per_s']) * 600, 0)).toBeCloseTo(Number(stored!.n), 6);
    const lag = (await run(PIPELINE_QUERIES.lag, wide(), variables())).data;
    // Event times are days before the wall clock here, so the lag is that far.
    expect(Number(lag[0]!['max_lag_s'])).toBeGreaterThan((startedAt - (T0 + 5 * H)) / 1000 - 60);
  });
});
