/**
 * npm run bench:ingest — end-to-end ingest throughput and produce-to-queryable latency.
 *
 * 1. Produces a realistic mixed stream (CRM CloudEvents, billing webhooks mapped by field
 *    paths, ticketing; redeliveries, out-of-order steps, a few poison messages).
 * 2. Baseline: raw kafkajs consumes the same topics (eachBatch, counting only) in a new group.
 * 3. seamwatch, as a separate process, consumes them: decode, dedupe, stitch, write events,
 *    runs and spans to ClickHouse, commit. Timed from group join to the last commit.
 * 4. Latency: with seamwatch caught up, events are produced at a steady rate and each one is
 *    timed until a query in ClickHouse sees it.
 *
 * Figures are printed side by side; this is a benchmark, not a test: it asserts nothing.
 * Scale with BENCH_UPGRADES (default 60000 plan upgrades ≈ 200k messages).
 */
import { cpuSeconds, printTable, runBench } from './report.ts';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type Message } from 'kafkajs';
import { buildScenario, produceAll, scenarioConfig, T0, type ScenarioTopics } from '../test/support/scenario.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, committedCount, createTopics, groupLag, store, unique, waitFor } from '../test/support/services.ts';
import { SeamwatchProcess, freePort, writeConfig } from '../test/support/child.ts';

const upgrades = Number(process.env['BENCH_UPGRADES'] ?? 60_000);
const latencySeconds = Number(process.env['BENCH_LATENCY_SECONDS'] ?? 10);
const latencyRate = Number(process.env['BENCH_LATENCY_RATE'] ?? 1_000);

const kafka = new Kafka({ clientId: 'seamwatch-bench', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
const log = (text: string) => process.stderr.write(`${text}\n`);

function pidOf(file: string): number | undefined {
  try {
    return Number(readFileSync(file, 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

function peakRssMb(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

async function rawConsume(topics: string[], total: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: unique('bench-raw'), maxBytesPerPartition: 4 * 1024 * 1024, maxBytes: 16 * 1024 * 1024, maxWaitTimeInMs: 250 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  let seen = 0;
  let started = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => (started = performance.now()));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      seen += batch.messages.length;
      if (seen >= total) done();
    },
  });
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await consumer.disconnect();
  return seconds;
}

async function main(): Promise<void> {
  const id = unique('bench');
  const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  const all = Object.values(topics);
  const admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, all, 4);
  const producer = kafka.producer();
  await producer.connect();
  const ch = store(id);

  const scenario = buildScenario(topics, upgrades, Math.floor(upgrades / 10), 'b');
  const total = [...scenario.messages.values()].reduce((n, l) => n + l.length, 0);
  log(`producing ${total} messages (${upgrades} plan upgrades, ${Math.floor(upgrades / 10)} tickets)…`);
  let t = performance.now();
  await produceAll(producer, scenario.messages, 5_000);
  log(`  produced in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  log('baseline: raw kafkajs consume of the same topics…');
  const rawSeconds = await rawConsume(all, total);
  const rawRate = total / rawSeconds;
  log(`  ${rawRate.toFixed(0)} msg/s`);

  log('seamwatch: decode → dedupe → stitch → ClickHouse → commit…');
  const groupId = `${id}-group`;
  const configFile = writeConfig(
    scenarioConfig(topics, {
      database: id,
      groupId,
      brokers: KAFKA_BROKERS,
      clickhouseUrl: CLICKHOUSE_URL,
      pipeline: '{ flushInterval: 1s, flushRows: 50000, maxBufferedRows: 300000, idleAdvanceAfter: 5s }',
    }),
  );
  const sw = new SeamwatchProcess(configFile, await freePort());
  await sw.ready();
  const servers = { clickhouse: pidOf('.services/clickhouse/clickhouse-server.pid'), kafka: pidOf('.services/kafka/kafka.pid') };
  const cpuBefore = { seamwatch: cpuSeconds(sw.child.pid), clickhouse: cpuSeconds(servers.clickhouse), kafka: cpuSeconds(servers.kafka) };
  t = performance.now();
  await waitFor('seamwatch to commit the whole stream', async () => (await committedCount(admin, groupId, all)) >= total, 600_000, 100);
  const swSeconds = (performance.now() - t) / 1000;
  const swRate = total / swSeconds;
  const rss = peakRssMb(sw.child.pid);
  const cpu = {
    seamwatch: cpuSeconds(sw.child.pid) - cpuBefore.seamwatch,
    clickhouse: cpuSeconds(servers.clickhouse) - cpuBefore.clickhouse,
    kafka: cpuSeconds(servers.kafka) - cpuBefore.kafka,
  };
  const metricsText = await (await fetch(`http://127.0.0.1:${sw.port}/metrics`)).text();
  const written = Object.fromEntries(
    [...metricsText.matchAll(/^seamwatch_store_rows_written_total\{table="(\w+)"\} (\d+)/gm)].map((m) => [m[1], Number(m[2])]),
  );
  log(`  ${swRate.toFixed(0)} msg/s`);
  const [stored] = await ch.rows<{ events: string; runs: string }>(
    `SELECT (SELECT uniqExact(source, event_id) FROM ${id}.events) AS events, (SELECT uniqExact(run_id) FROM ${id}.runs) AS runs`,
  );

  log(`latency: ${latencyRate} events/s for ${latencySeconds} s…`);
  const sent = new Map<string, number>();
  const seen = new Map<string, number>();
  const ticks = latencySeconds * 10;
  const perTick = Math.max(1, Math.round(latencyRate / 10));
  const polling = (async () => {
    while (seen.size < ticks * perTick) {
      const pending = [...sent.keys()].filter((k) => !seen.has(k));
      if (pending.length > 0) {
        const rows = await ch.rows<{ correlation_id: string }>(
          `SELECT correlation_id FROM ${id}.events WHERE correlation_id IN (${pending.map((p) => `'${p}'`).join(',')})`,
        );
        const now = performance.now();
        for (const r of rows) if (!seen.has(r.correlation_id)) seen.set(r.correlation_id, now);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  for (let tick = 0; tick < ticks; tick++) {
    const started = performance.now();
    const messages: Message[] = [];
    for (let i = 0; i < perTick; i++) {
      const c = `lat-${tick}-${i}`;
      const time = new Date(T0 + upgrades * 1000 + tick * 100 + i).toISOString();
      messages.push({ key: c, value: JSON.stringify({ specversion: '1.0', id: c, source: 'crm', type: 'subscription.upgraded', time, correlationid: c }) });
    }
    const at = performance.now();
    await producer.send({ topic: topics.crm, messages });
    for (const m of messages) sent.set(String(m.key), at);
    await new Promise((r) => setTimeout(r, Math.max(0, 100 - (performance.now() - started))));
  }
  await Promise.race([polling, new Promise((r) => setTimeout(r, 60_000))]);
  const latencies = [...seen].map(([k, when]) => when - sent.get(k)!).sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;

  await sw.stop();
  await producer.disconnect();
  await ch.command(`DROP DATABASE IF EXISTS ${id}`);
  await ch.shutdown();
  await admin.deleteTopics({ topics: [...all, ...all.map((t) => `${t}.dlq`)] }).catch(() => undefined);
  await admin.disconnect();

  const rows: [string, string][] = [
    ['messages in the stream', String(total)],
    ['raw kafkajs consume (baseline)', `${rawRate.toFixed(0)} msg/s  (${rawSeconds.toFixed(2)} s)`],
    ['seamwatch end to end', `${swRate.toFixed(0)} msg/s  (${swSeconds.toFixed(2)} s)`],
    ['seamwatch / baseline', `${((swRate / rawRate) * 100).toFixed(0)} %`],
    ['stored events / runs', `${stored?.events} / ${stored?.runs}  (expected ${scenario.distinctEvents} / ${scenario.expectedRuns.size})`],
    ['rows written (events/runs/spans)', `${written['events']} / ${written['runs']} / ${written['spans']}`],
    ['CPU s during it: seamwatch / ClickHouse / Kafka', `${cpu.seamwatch.toFixed(1)} / ${cpu.clickhouse.toFixed(1)} / ${cpu.kafka.toFixed(1)}`],
    ['seamwatch peak RSS', `${rss.toFixed(0)} MiB`],
    [`produce → queryable at ${latencyRate}/s`, `p50 ${q(0.5).toFixed(0)} ms, p99 ${q(0.99).toFixed(0)} ms, max ${(latencies.at(-1) ?? NaN).toFixed(0)} ms (${latencies.length}/${ticks * perTick} seen)`],
  ];
  printTable('seamwatch ingest benchmark', rows);
}

runBench(main);
