import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upgradeSyncSloYaml } from '../support/slo-fixtures.ts';
import type { Admin, Message, Producer } from 'kafkajs';
import { parseConfigText } from '../../src/config/load.ts';
import { Seamwatch } from '../../src/app.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import type { SloAlertSignal, SloAlertSink } from '../../src/slo/types.ts';
import type { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { billingWebhook, cloudEvent, produceAll, scenarioConfig, T0, type ScenarioTopics } from '../support/scenario.ts';
import { CLICKHOUSE_URL, ENGINES, ENGINE_NAMES, KAFKA_BROKERS, OWN_STORE_ENV, createTopics, groupLag, kafka, requireServices, store, storeYaml, unique, waitFor } from '../support/services.ts';
import { writeConfig } from '../support/child.ts';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
/** A plan upgrade every 3 s for 3 h; in the middle hour, every 50th (2 %) syncs 6 minutes late. */
const RUNS = 3_600;
const lateRun = (i: number) => i >= 1_200 && i < 2_400 && i % 50 === 0;
const LATE = Array.from({ length: RUNS }, (_, i) => i).filter(lateRun).length;

const SLOS = upgradeSyncSloYaml('99.9%');

/** Messages in event-time order, sliced so that a slow producer can play them like a live stream. */
function stream(topics: ScenarioTopics): { topic: string; time: number; message: Message }[] {
  const out: { topic: string; time: number; message: Message }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c = `slo-${i}`;
    const t = T0 + i * 3 * S;
    out.push({ topic: topics.crm, time: t, message: cloudEvent('crm', 'subscription.upgraded', `up-${c}`, c, t, false) });
    out.push({ topic: topics.billing, time: t + 10 * S, message: billingWebhook('invoice.updated', `inv-${c}`, c, t + 10 * S) });
    const entitled = t + (lateRun(i) ? 6 * M : 20 * S);
    out.push({ topic: topics.billing, time: entitled, message: billingWebhook('entitlement.activated', `ent-${c}`, c, entitled) });
  }
  const end = T0 + 3 * H + 86_400_000;
  for (const [name, topic] of [['crm', topics.crm], ['billing', topics.billing], ['ticketing', topics.ticketing]] as const) {
    for (let partition = 0; partition < 4; partition++) {
      const id = `hb-${name}-${partition}`;
      const message = name === 'billing' ? billingWebhook('heartbeat', id, id, end) : cloudEvent(name, 'seamwatch.heartbeat', id, id, end, false);
      out.push({ topic, time: end, message: { ...message, partition } });
    }
  }
  return out.sort((a, b) => a.time - b.time);
}

class RecordingSink implements SloAlertSink {
  readonly signals: SloAlertSignal[] = [];
  signal(signal: SloAlertSignal): void {
    this.signals.push(signal);
  }
}

describe.each(ENGINES.map((e) => [ENGINE_NAMES[e], e] as const))('business SLO on real Kafka and %s', (_name, engine) => {
  const id = unique('slo');
  const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  const all = Object.values(topics);
  let admin: Admin;
  let producer: Producer;
  let ch: ClickHouseStore;
  const apps: Seamwatch[] = [];

  const start = async (groupId: string, sink: SloAlertSink) => {
    const text = scenarioConfig(topics, {
      database: id,
      groupId,
      brokers: KAFKA_BROKERS,
      clickhouseUrl: CLICKHOUSE_URL,
      store: storeYaml(id, engine),
      pipeline: '{ flushInterval: 100ms, idleAdvanceAfter: 2s, sloEvaluateEvery: 100ms }',
      slos: SLOS,
    });
    const app = new Seamwatch({ config: parseConfigText(text, 'test'), logger: silentLogger(), sloSink: sink });
    apps.push(app);
    await app.start();
    expect(app.store.kind).toBe(engine);
    return app;
  };

  const sloApi = async (app: Seamwatch) => {
    const res = await fetch(`http://127.0.0.1:${app.http.port}/api/v1/slos/upgrade-sync-5m`);
    return (await res.json()) as { sli: number; runs: { total: number; bad: number }; errorBudget: { remainingRatio: number; remainingRuns: number }; at: string; series: { points: unknown[] } };
  };

  beforeAll(async () => {
    await requireServices();
    admin = kafka().admin();
    await admin.connect();
    await createTopics(admin, all);
    producer = kafka().producer();
    await producer.connect();
    ch = store(id, engine);
  });

  afterAll(async () => {
    for (const app of apps) await app.shutdown().catch(() => undefined);
    await producer?.disconnect();
    // The command-line case closes this store (see there); a fresh one drops the database.
    const cleanup = store(id, engine);
    await cleanup.command(`DROP DATABASE IF EXISTS ${id}`);
    await cleanup.shutdown();
    await ch?.shutdown();
    await admin?.deleteTopics({ topics: [...all, ...all.map((t) => `${t}.dlq`)] }).catch(() => undefined);
    await admin?.disconnect();
  });

  const live = new RecordingSink();
  let liveStatus: Awaited<ReturnType<typeof sloApi>>;

  it('fires the fast-burn page while 2 % of upgrades sync late, and resolves it after recovery', async () => {
    const app = await start(`${id}-live`, live);
    // Played like a live stream: three minutes of event time per slice.
    const timeline = stream(topics);
    for (let from = T0; from < T0 + 3 * H + 86_400_000 + 1; from += 3 * M) {
      const slice = timeline.filter((m) => m.time >= from && m.time < from + 3 * M);
      if (slice.length === 0) continue;
      const byTopic = new Map<string, Message[]>();
      for (const m of slice) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), m.message]);
      await produceAll(producer, byTopic);
      await new Promise((r) => setTimeout(r, 60));
    }
    const rest = timeline.filter((m) => m.time >= T0 + 3 * H);
    const byTopic = new Map<string, Message[]>();
    for (const m of rest) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), m.message]);
    await produceAll(producer, byTopic);
    await waitFor('the stream to be committed', async () => (await groupLag(admin, `${id}-live`, all)) === 0, 90_000);
    await waitFor('every run counted', async () => (await sloApi(app)).runs?.total === RUNS, 60_000);

    const fast = live.signals.filter((s) => s.longWindowMs === H && s.shortWindowMs === 5 * M);
    expect(fast.map((s) => s.kind)).toEqual(['firing', 'resolved']);
    const [fired, resolved] = fast as [SloAlertSignal, SloAlertSignal];
    expect(fired.severity).toBe('page');
    expect(fired.owner).toBe('billing-platform');
    expect(fired.factor).toBeCloseTo(14.4, 6);
    // The hour-long window needs 43 minutes of 2 % bad runs to average 1.44 %; runs count 5m after they start.
    expect(fired.at).toBeGreaterThanOrEqual(T0 + H + 5 * M + 43 * M);
    expect(fired.at).toBeLessThanOrEqual(T0 + 2 * H + 5 * M);
    expect(fired.burnRate).toBeGreaterThanOrEqual(14.4);
    // Resolved once the 5-minute window holds no late run: within 5 minutes of the last late one counting.
    expect(resolved.at).toBeGreaterThan(T0 + 2 * H);
    expect(resolved.at).toBeLessThanOrEqual(T0 + 2 * H + 5 * M + 5 * M + M);
    expect(live.signals.every((s, i) => i === 0 || s.at >= live.signals[i - 1]!.at)).toBe(true);

    liveStatus = await sloApi(app);
    expect(liveStatus.runs).toEqual({ total: RUNS, bad: LATE });
    expect(liveStatus.sli).toBeCloseTo((RUNS - LATE) / RUNS, 12);
    expect(liveStatus.errorBudget.remainingRatio).toBeCloseTo(1 - LATE / (0.001 * RUNS), 9);
    const text = await (await fetch(`http://127.0.0.1:${app.http.port}/metrics`)).text();
    expect(text).toMatch(/seamwatch_slo_error_budget_remaining_ratio\{slo="upgrade-sync-5m"\} -5\.66/);
    expect(text).toContain('seamwatch_slo_alert_signals_total{slo="upgrade-sync-5m"');
  });

  it('counts the same numbers and raises the same burn alerts when the same stream is replayed into the same store', async () => {
    for (const app of apps.splice(0)) await app.shutdown();
    const replay = new RecordingSink();
    const app = await start(`${id}-replay`, replay);
    await waitFor('the replay to be committed', async () => (await groupLag(admin, `${id}-replay`, all)) === 0, 90_000);
    // Once idle, event time follows the wall clock (idleAdvanceAfter), so the live status was taken
    // at some minute past the stream's end, later the slower the machine: the replay must reach it
    // (nothing happens past the stream's end that could change the counts or the signals).
    await waitFor('the replay to reach the same event time', async () => Date.parse((await sloApi(app)).at) >= Date.parse(liveStatus.at) || undefined, 90_000);
    const again = await sloApi(app);
    expect({ runs: again.runs, sli: again.sli, budget: again.errorBudget }).toEqual({ runs: liveStatus.runs, sli: liveStatus.sli, budget: liveStatus.errorBudget });
    const [row] = await ch.rows<{ good: string; total: string }>(`SELECT sum(good) AS good, sum(total) AS total FROM ${id}.slo_minutes FINAL`);
    expect([Number(row!.good), Number(row!.total)]).toEqual([RUNS - LATE, RUNS]);
    const [outcomes] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM ${id}.slo_run_outcomes FINAL`);
    expect(Number(outcomes!.n)).toBe(RUNS);
    // A fresh engine catches up from the store over the longest tier window (3 days, which
    // holds the whole stream) and raises what the live one raised, in the same order, with
    // the same burn rates and budget left at each minute.
    expect(live.signals.length).toBeGreaterThanOrEqual(2);
    expect(replay.signals).toEqual(live.signals);
  });

  it('prints the same status on the command line, from the store alone', async () => {
    // The command line is another process: on the embedded engine it may open the data
    // directory only once this process has let go of it, as an operator stops seamwatch first.
    for (const app of apps.splice(0)) await app.shutdown();
    await ch.shutdown();
    const configFile = writeConfig(
      scenarioConfig(topics, { database: id, groupId: 'unused', brokers: ['127.0.0.1:1'], clickhouseUrl: CLICKHOUSE_URL, store: storeYaml(id, engine), slos: SLOS }),
    );
    const root = resolve(import.meta.dirname, '../..');
    const run = (...args: string[]) => spawnSync(process.execPath, [join(root, 'src/cli/main.ts'), 'slo', 'status', '--config', configFile, '--at', liveStatus.at, ...args], { encoding: 'utf8', env: { ...process.env, ...OWN_STORE_ENV } });
    const table = run();
    expect(table.status).toBe(0);
    const row = table.stdout.split('\n').find((l) => l.startsWith('upgrade-sync-5m'))!;
    expect(row.split(/\s{2,}/).slice(0, 8)).toEqual(['upgrade-sync-5m', 'plan-upgrade', '99.90%', '30d rolling', `${(((RUNS - LATE) / RUNS) * 100).toFixed(3)}%`, String(RUNS), String(LATE), '-566.7%']);
    const json = JSON.parse(run('--json').stdout) as { runs: unknown; sli: number }[];
    expect([json[0]!.runs, json[0]!.sli]).toEqual([liveStatus.runs, liveStatus.sli]);
  });
});
