/**
 * npm run bench:ingest — end-to-end ingest throughput and produce-to-queryable latency, on
 * both store engines side by side: the ClickHouse server and ClickHouse embedded in seamwatch.
 *
 * 1. Produces a realistic mixed stream (CRM CloudEvents, billing webhooks mapped by field
 *    paths, ticketing; redeliveries, out-of-order steps, a few poison messages), once per
 *    engine into topics of its own, so both read the same stream.
 * 2. Baseline: raw kafkajs consumes the same topics (eachBatch, counting only) in a new group.
 * 3. seamwatch, as a separate process, consumes them: decode, dedupe, stitch, write events,
 *    runs and spans to the store, commit. Timed from readiness to the last commit, and over the
 *    backlog's second half (from the poll that saw half of it committed), which a process past
 *    its start-up reads: code optimized, heap grown, pages touched.
 * 4. Latency: with seamwatch caught up, events are produced at a steady rate; one in ten is
 *    timed until seamwatch's trace API (a query on its store) finds it. The API is the way in
 *    that works on both engines: nothing but seamwatch may open an embedded store while it runs.
 *
 * This is a benchmark, not a test: it asserts nothing. Scale with BENCH_UPGRADES (default
 * 60000 plan upgrades ≈ 235k messages); BENCH_ENGINES=clickhouse or =embedded runs one;
 * BENCH_SEAMWATCH_NODE_OPTIONS adds Node flags to the seamwatch child only; BENCH_INSTANCES=2
 * runs that many seamwatch instances in one consumer group on the server engine (the design's
 * scale-out), timed from when all are ready over what was left to commit then.
 */
import { cpuSeconds, minorFaults, printColumns, runBench } from './report.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin, type Message, type Producer } from 'kafkajs';
import { Consumer as PlatformaticConsumer } from '@platformatic/kafka';
import { buildScenario, produceAll, scenarioConfig, T0, type ScenarioTopics } from '../test/support/scenario.ts';
import { CLICKHOUSE_URL, ENGINES, KAFKA_BROKERS, childEmbeddedPath, committedCount, removeEmbeddedPath, createTopics, store, storeYaml, unique, waitFor, type Engine } from '../test/support/services.ts';
import { SeamwatchProcess, freePort, writeConfig } from '../test/support/child.ts';

const upgrades = Number(process.env['BENCH_UPGRADES'] ?? 60_000);
const latencySeconds = Number(process.env['BENCH_LATENCY_SECONDS'] ?? 20);
const latencyRate = Number(process.env['BENCH_LATENCY_RATE'] ?? 10_000);
const benchTimeoutMs = Number(process.env['BENCH_TIMEOUT_MS'] ?? 600_000);
const engines = (process.env['BENCH_ENGINES']?.split(',') ?? [...ENGINES]) as Engine[];
/** seamwatch instances in one consumer group on the server engine (the embedded store has one process). */
const instances = Number(process.env['BENCH_INSTANCES'] ?? 1);
if (!Number.isInteger(instances) || instances < 1) throw new Error(`BENCH_INSTANCES must be a whole number from 1, not ${JSON.stringify(process.env['BENCH_INSTANCES'])}`);
/** Where services.sh keeps the servers' pid files (for their CPU seconds). */
const servicesDir = process.env['BENCH_SERVICES_DIR'] ?? '.services';
/** Node flags for the seamwatch child alone (e.g. a GC setting to weigh), added to any NODE_OPTIONS. */
const seamwatchNodeOptions = process.env['BENCH_SEAMWATCH_NODE_OPTIONS'];

const kafka = new Kafka({ clientId: 'seamwatch-bench', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
const log = (text: string) => process.stderr.write(`${text}\n`);

function pidOf(file: string): number | undefined {
  try {
    return Number(readFileSync(join(servicesDir, file), 'utf8').trim()) || undefined;
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

/** A raw consume: how long from joining the group to the last message, and this process's CPU meanwhile. */
interface RawFigures {
  seconds: number;
  cpu: number;
}

const ownCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** The baseline: kafkajs reading the topics (eachBatch, counting only), as seamwatch's collector reads them. */
async function rawKafkajs(topics: string[], total: number): Promise<RawFigures> {
  const consumer = kafka.consumer({ groupId: unique('bench-raw'), maxBytesPerPartition: 4 * 1024 * 1024, maxBytes: 16 * 1024 * 1024, maxWaitTimeInMs: 250 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  let seen = 0;
  let started = 0;
  let cpu0 = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => {
    started = performance.now();
    cpu0 = ownCpu();
  });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      seen += batch.messages.length;
      if (seen >= total) done();
    },
  });
  await finished;
  const out = { seconds: (performance.now() - started) / 1000, cpu: ownCpu() - cpu0 };
  await consumer.disconnect();
  return out;
}

/** The same with @platformatic/kafka: a stream of messages, no commits, counting only. */
async function rawPlatformatic(topics: string[], total: number): Promise<RawFigures> {
  const consumer = new PlatformaticConsumer({
    groupId: unique('bench-raw-plt'),
    clientId: 'seamwatch-bench',
    bootstrapBrokers: KAFKA_BROKERS,
    maxBytes: 16 * 1024 * 1024,
    maxWaitTime: 250,
    autocommit: false,
  });
  // Timed from joining the group, as the kafkajs baseline is.
  let started = performance.now();
  let cpu0 = ownCpu();
  consumer.on('consumer:group:join', () => {
    started = performance.now();
    cpu0 = ownCpu();
  });
  const stream = await consumer.consume({ topics, mode: 'earliest', autocommit: false });
  let seen = 0;
  await new Promise<void>((resolve, reject) => {
    stream.on('data', () => {
      if (++seen >= total) resolve();
    });
    stream.on('error', reject);
  });
  const out = { seconds: (performance.now() - started) / 1000, cpu: ownCpu() - cpu0 };
  await stream.close();
  await consumer.close(true);
  return out;
}

/** Produces at a steady rate; times one event in ten from the produce call until the trace API finds it. */
async function latency(producer: Producer, topic: string, port: number): Promise<number[]> {
  const ticks = latencySeconds * 10;
  const perTick = Math.max(1, Math.round(latencyRate / 10));
  const samples: { id: string; at: number }[] = [];
  const found: number[] = [];
  let producing = true;
  // Oldest sample first: rows land roughly in order, so one request at a time keeps the probe light.
  const polling = (async () => {
    while (producing || found.length < samples.length) {
      const next = samples[found.length];
      if (next && (await fetch(`http://127.0.0.1:${port}/api/v1/traces/${next.id}`)).status === 200) {
        found.push(performance.now() - next.at);
        continue;
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
    await producer.send({ topic, messages });
    samples.push({ id: `lat-${tick}-0`, at });
    await new Promise((r) => setTimeout(r, Math.max(0, 100 - (performance.now() - started))));
  }
  producing = false;
  await Promise.race([polling, new Promise((r) => setTimeout(r, 60_000))]);
  return found.sort((a, b) => a - b);
}

interface Figures {
  total: number;
  raw: { kafkajs: RawFigures; platformatic: RawFigures };
  /** The fastest raw client's rate: the floor seamwatch is measured against. */
  rawRate: number;
  rawClient: string;
  /** seamwatch instances, and the messages left to commit once all were ready (what the rate counts). */
  instances: number;
  timed: number;
  swRate: number;
  swSeconds: number;
  /** The backlog from where half of it was committed to the end: a process past its start-up. */
  warm: { messages: number; seconds: number; cpu: number } | undefined;
  stored: string;
  /** Runs whose stored verdict is the one the scenario built them for, and held steps let go. */
  verdicts: string;
  written: string;
  flushes: { count: number; seconds: number; waits: number };
  cpu: { seamwatch: number; clickhouse: number; kafka: number };
  rss: number;
  /** Minor page faults of the seamwatch processes from start to the end of the latency phase. */
  faults: number;
  latencies: number[];
}

async function benchEngine(engine: Engine, admin: Admin, producer: Producer): Promise<Figures> {
  const id = unique(`bench_${engine}`);
  const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  const all = Object.values(topics);
  await createTopics(admin, all, 4);
  const scenario = buildScenario(topics, upgrades, Math.floor(upgrades / 10), 'b');
  const total = [...scenario.messages.values()].reduce((n, l) => n + l.length, 0);
  log(`[${engine}] producing ${total} messages (${upgrades} plan upgrades, ${Math.floor(upgrades / 10)} tickets)…`);
  let t = performance.now();
  await produceAll(producer, scenario.messages, 5_000);
  log(`  produced in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  log(`[${engine}] baseline: raw consume of the same topics with each Node client…`);
  const raw = { kafkajs: await rawKafkajs(all, total), platformatic: await rawPlatformatic(all, total) };
  const [rawClient, fastest] = Object.entries(raw).sort((a, b) => a[1].seconds - b[1].seconds)[0]!;
  const rawRate = total / fastest.seconds;
  for (const [client, f] of Object.entries(raw)) log(`  ${client}: ${(total / f.seconds).toFixed(0)} msg/s, ${((f.cpu * 1e6) / total).toFixed(2)} µs CPU/msg`);

  log(`[${engine}] seamwatch: decode → dedupe → stitch → store → commit…`);
  const groupId = `${id}-group`;
  const path = engine === 'embedded' ? childEmbeddedPath() : undefined;
  const configFile = writeConfig(
    scenarioConfig(topics, {
      database: id,
      groupId,
      brokers: KAFKA_BROKERS,
      clickhouseUrl: CLICKHOUSE_URL,
      store: storeYaml(id, engine, path),
      pipeline: '{ flushInterval: 1s, flushRows: 50000, maxBufferedRows: 300000, idleAdvanceAfter: 5s }',
    }),
  );
  const childEnv: Record<string, string> = seamwatchNodeOptions ? { NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} ${seamwatchNodeOptions}`.trim() } : {};
  // Started together; the rate is timed from when all are ready, over what was left to commit then.
  const count = engine === 'embedded' ? 1 : instances;
  const sws: SeamwatchProcess[] = [];
  for (let i = 0; i < count; i++) sws.push(new SeamwatchProcess(configFile, await freePort(), childEnv));
  await Promise.all(sws.map((one) => one.ready()));
  const readyAt = performance.now();
  const sw = sws[0]!;
  const swCpu = () => sws.reduce((n, one) => n + cpuSeconds(one.child.pid), 0);
  const servers = { clickhouse: pidOf('clickhouse/clickhouse-server.pid'), kafka: pidOf('kafka/kafka.pid') };
  const cpuBefore = { seamwatch: swCpu(), clickhouse: cpuSeconds(servers.clickhouse), kafka: cpuSeconds(servers.kafka) };
  t = performance.now();
  const committedAtStart = count > 1 ? await committedCount(admin, groupId, all) : 0;
  const timed = total - committedAtStart;
  // Where the second half of the backlog starts: a process that has run a while (its code
  // optimized, its heap grown to size, its pages touched) is what production runs.
  let half: { at: number; committed: number; cpu: number } | undefined;
  const committedAll = async () => {
    const committed = await committedCount(admin, groupId, all);
    if (!half && committed >= committedAtStart + timed / 2) half = { at: performance.now(), committed, cpu: swCpu() };
    return committed >= total;
  };
  await waitFor('seamwatch to commit the whole stream', committedAll, benchTimeoutMs, 100).catch((error: unknown) => {
    for (const one of sws) log(`seamwatch said:\n${one.output.split('\n').slice(-20).join('\n')}`);
    throw error;
  });
  const end = performance.now();
  const swSeconds = (end - t) / 1000;
  const warm = half && half.committed < total ? { messages: total - half.committed, seconds: (end - half.at) / 1000, cpu: swCpu() - half.cpu } : undefined;
  const cpu = {
    seamwatch: swCpu() - cpuBefore.seamwatch,
    clickhouse: cpuSeconds(servers.clickhouse) - cpuBefore.clickhouse,
    kafka: cpuSeconds(servers.kafka) - cpuBefore.kafka,
  };
  const metricsText = (await Promise.all(sws.map(async (one) => (await fetch(`http://127.0.0.1:${one.port}/metrics`)).text()))).join('\n');
  // Summed over the instances: each counts what it did.
  const written: Record<string, number> = {};
  for (const m of metricsText.matchAll(/^seamwatch_store_rows_written_total\{table="(\w+)"\} (\d+)/gm)) written[m[1]!] = (written[m[1]!] ?? 0) + Number(m[2]);
  const sum = (pattern: string) => [...metricsText.matchAll(new RegExp(`^${pattern} (\\S+)`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
  // Time the main thread may have stood still waiting for the store: flushes overlap consuming
  // until the buffer is full (pipeline.maxBufferedRows), then consuming waits for them.
  const flushes = { count: sum('seamwatch_store_flush_seconds_count'), seconds: sum('seamwatch_store_flush_seconds_sum'), waits: sum('seamwatch_backpressure_waits_total') };
  log(`  ${(timed / swSeconds).toFixed(0)} msg/s${count > 1 ? ` (${count} instances, ${committedAtStart} committed before all were ready)` : ''}`);

  log(`[${engine}] latency: ${latencyRate} events/s for ${latencySeconds} s…`);
  const latencies = await latency(producer, topics.crm, sw.port);
  const rss = Math.max(...sws.map((one) => peakRssMb(one.child.pid)));
  const faults = sws.reduce((n, one) => n + minorFaults(one.child.pid), 0);

  // An instance that became ready with its partitions' backlog already read by another holds
  // event time at its seed until they have been quiet for idleAdvanceAfter (5 s here): only then
  // are the deadlines of the runs it took over judged. Verdicts are read once that is past.
  const settleMs = 5_000 + 2_000 - (performance.now() - readyAt);
  if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
  // The embedded store is read once seamwatch has let go of it; the server's could be read live.
  await Promise.all(sws.map((one) => one.stop()));
  const ch = store(id, engine, path);
  const [stored] = await ch.rows<{ events: string; runs: string }>(
    `SELECT (SELECT uniqExact(source, event_id) FROM ${id}.events WHERE correlation_id NOT LIKE 'lat-%') AS events,
            (SELECT uniqExact(run_id) FROM ${id}.runs WHERE correlation_id NOT LIKE 'lat-%') AS runs`,
  );
  // Throughput counts only if the runs came out right: a step let go at pipeline.maxHeldSteps
  // (steps read ahead of their triggers) leaves its run waiting for it past the deadline.
  const states = await ch.rows<{ run_id: string; state: string; missed: number }>(
    `SELECT run_id, argMax(state, version) AS state, argMax(deadline_missed, version) AS missed FROM ${id}.runs WHERE correlation_id NOT LIKE 'lat-%' GROUP BY run_id`,
  );
  const right = states.filter((r) => {
    const expected = scenario.expectedRuns.get(r.run_id);
    return expected !== undefined && expected.state === r.state && expected.deadlineMissed === Boolean(Number(r.missed));
  }).length;
  // What the wrong ones are, by expected → stored verdict, with one run of each as an example.
  const wrong = new Map<string, { count: number; example: string }>();
  for (const r of states) {
    const expected = scenario.expectedRuns.get(r.run_id);
    const got = `${r.state}${Number(r.missed) ? ' (late)' : ''}`;
    const want = expected ? `${expected.state}${expected.deadlineMissed ? ' (late)' : ''}` : 'no run';
    if (got === want) continue;
    const key = `${want} → ${got}`;
    const seen = wrong.get(key);
    wrong.set(key, { count: (seen?.count ?? 0) + 1, example: seen?.example ?? r.run_id });
  }
  for (const [key, { count, example }] of wrong) process.stderr.write(`  wrong verdicts: ${key}: ${count} (e.g. ${example})\n`);
  const heldEvicted = sum('seamwatch_stitch_events_total\\{outcome="held_evicted"\\}');
  await ch.command(`DROP DATABASE IF EXISTS ${id}`);
  await ch.shutdown();
  removeEmbeddedPath(path);
  await admin.deleteTopics({ topics: [...all, ...all.map((t) => `${t}.dlq`)] }).catch(() => undefined);

  return {
    total,
    raw,
    rawRate,
    rawClient,
    instances: count,
    timed,
    swRate: timed / swSeconds,
    swSeconds,
    warm,
    stored: `${stored?.events} / ${stored?.runs} (of ${scenario.distinctEvents} / ${scenario.expectedRuns.size})`,
    verdicts: `${right} of ${scenario.expectedRuns.size} (held steps let go: ${heldEvicted})`,
    written: `${written['events']} / ${written['runs']} / ${written['spans']}`,
    flushes,
    cpu,
    rss,
    faults,
    latencies,
  };
}

async function main(): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  await producer.connect();
  const results: Figures[] = [];
  const measured: Engine[] = [];
  // One engine's failure (a busy broker slow to elect leaders for new topics, say) leaves the
  // other's figures standing: each is tried once more, then reported as failed.
  for (const engine of engines) {
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        results.push(await benchEngine(engine, admin, producer));
        measured.push(engine);
        break;
      } catch (error) {
        log(`[${engine}] failed${attempt === 1 ? ', once more' : ''}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  await producer.disconnect();
  await admin.disconnect();
  if (results.length === 0) throw new Error('no engine could be measured');

  const rawCell = (f: Figures, client: keyof Figures['raw']) =>
    `${(f.total / f.raw[client].seconds).toFixed(0)} msg/s, ${((f.raw[client].cpu * 1e6) / f.total).toFixed(2)} µs CPU/msg`;
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const q = (f: Figures, p: number) => f.latencies[Math.min(f.latencies.length - 1, Math.floor(p * f.latencies.length))] ?? NaN;
  const each = (cell: (f: Figures, engine: Engine) => string) => results.map((f, i) => cell(f, measured[i]!));
  printColumns('seamwatch ingest benchmark', ['', ...measured.map((e) => (e === 'embedded' ? 'embedded (chdb 26.7)' : 'ClickHouse server'))], [
    ['messages in the stream', ...each((f) => String(f.total))],
    ['raw consume: kafkajs', ...each((f) => rawCell(f, 'kafkajs'))],
    ['raw consume: @platformatic/kafka', ...each((f) => rawCell(f, 'platformatic'))],
    [
      'seamwatch end to end (kafkajs)',
      ...each((f) => `${f.swRate.toFixed(0)} msg/s (${f.swSeconds.toFixed(1)} s), ${((f.cpu.seamwatch * 1e6) / f.timed).toFixed(1)} µs CPU/msg${f.instances > 1 ? `, ${f.instances} instances (${f.timed} msgs timed)` : ''}`),
    ],
    [
      '  its second half (a warm process)',
      ...each((f) => (f.warm ? `${(f.warm.messages / f.warm.seconds).toFixed(0)} msg/s (${f.warm.messages} in ${f.warm.seconds.toFixed(1)} s), ${((f.warm.cpu * 1e6) / f.warm.messages).toFixed(1)} µs CPU/msg` : '— (one commit took it all)')),
    ],
    ['seamwatch / fastest raw client', ...each((f) => `${((f.swRate / f.rawRate) * 100).toFixed(0)} % (of ${f.rawClient})`)],
    ['stored events / runs', ...each((f) => f.stored)],
    ['runs with the expected verdict', ...each((f) => f.verdicts)],
    ['rows written (events/runs/spans)', ...each((f) => f.written)],
    ['store flushes (back-pressure waits)', ...each((f) => `${f.flushes.count}, ${f.flushes.seconds.toFixed(1)} s in all (${f.flushes.waits})`)],
    ['CPU s: seamwatch process', ...each((f, e) => `${f.cpu.seamwatch.toFixed(1)}${e === 'embedded' ? ' (incl. ClickHouse)' : ''}`)],
    ['CPU s: ClickHouse server', ...each((f, e) => (e === 'embedded' ? '— (none)' : f.cpu.clickhouse.toFixed(1)))],
    ['CPU s: Kafka', ...each((f) => f.cpu.kafka.toFixed(1))],
    ['seamwatch peak RSS', ...each((f) => `${f.rss.toFixed(0)} MiB`)],
    ['seamwatch minor page faults', ...each((f) => `${(f.faults / 1000).toFixed(0)}k (${(f.faults / f.total).toFixed(2)} a message)`)],
    [`produce → queryable at ${latencyRate}/s`, ...each((f) => `p50 ${q(f, 0.5).toFixed(0)} ms, p99 ${q(f, 0.99).toFixed(0)} ms`)],
    ['  (samples found / max)', ...each((f) => `${f.latencies.length}, max ${(f.latencies.at(-1) ?? NaN).toFixed(0)} ms`)],
    ['load average at the end (1/5/15 min)', ...each(() => load)],
  ]);
}

runBench(main);
