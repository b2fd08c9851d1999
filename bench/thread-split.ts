/**
 * npm run bench:thread-split — would moving the Kafka consumer to a worker thread pay? The
 * ceiling of that design, measured before building it.
 *
 * 1. Produces the bench:ingest stream (test/support/scenario.ts) into topics of its own.
 * 2. Consumes it, alternating, in a new consumer group each time:
 *    - `main`: everything on the main thread as seamwatch does today: the kafkajs consumer
 *      (set up as the collector sets it up), the collector's message conversion, then the real
 *      IngestPipeline (decode, contract, dedupe, stitch, SLO judge, counts) and its flushes,
 *      whose store encodes every events/runs/spans row into RowBinary buffers as the ClickHouse
 *      store does, without inserting them (BENCH_STORE=clickhouse: the real ClickHouse store,
 *      inserting into the server, whose CPU is then reported too).
 *    - `worker`: the kafkajs consumer in a worker thread (bench/thread-split-worker.ts) that
 *      posts each batch's raw messages (values and keys in one transferred ArrayBuffer); the
 *      main thread does everything else, as in `main`.
 * 3. Prints msg/s (from the first batch to the last flush), CPU seconds of each thread
 *    (`process.threadCpuUsage()`), of the whole process (V8's GC helper threads included),
 *    each thread's event-loop utilization, and the main thread's GC time (v8.GCProfiler).
 *
 * This is a benchmark, not a test: it asserts nothing. BENCH_UPGRADES (default 120000 ≈ 470k
 * messages), BENCH_ROUNDS (3 of each), BENCH_IN_FLIGHT (batches a worker may have waiting, 4),
 * BENCH_STORE (`encode`, the default, or `clickhouse`), BENCH_SERVICES_DIR (`.services`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GCProfiler } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { cpuSeconds, printColumns, runBench } from './report.ts';
import { buildScenario, produceAll, scenarioConfig, type ScenarioTopics } from '../test/support/scenario.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, createTopics, store as clickhouseStore, unique } from '../test/support/services.ts';
import { parseConfigText } from '../src/config/load.ts';
import type { RawMessage } from '../src/collectors/decode/index.ts';
import { toRaw } from '../src/collectors/kafka/raw-message.ts';
import type { Store, StoreBatch } from '../src/domain/store.ts';
import { IngestPipeline } from '../src/pipeline/pipeline.ts';
import type { ClickHouseStore } from '../src/store/clickhouse/clickhouse-store.ts';
import { PipelineMetrics } from '../src/telemetry/pipeline-metrics.ts';
import { eventRow, runRow, spanRow } from '../src/store/clickhouse/binary-rows.ts';
import { encodeRowBinary } from '../src/store/clickhouse/row-binary.ts';
import type { PackedBatch, WorkerInput, WorkerReport } from './thread-split-worker.ts';

const upgrades = Number(process.env['BENCH_UPGRADES'] ?? 120_000);
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
const inFlight = Number(process.env['BENCH_IN_FLIGHT'] ?? 4);
const insertInto = process.env['BENCH_STORE'] === 'clickhouse' ? unique('bench_split') : undefined;
const servicesDir = process.env['BENCH_SERVICES_DIR'] ?? '.services';
const clickhousePid = (() => {
  try {
    return Number(readFileSync(join(servicesDir, 'clickhouse/clickhouse-server.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
})();
const log = (text: string) => process.stderr.write(`${text}\n`);
const kafka = new Kafka({ clientId: 'seamwatch-bench', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });

const threadCpuMs = () => {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
};
const processCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};


/** A store that does our side of the ClickHouse server's write: every hot row into RowBinary. */
function encodingStore(): { store: Store; bytes: () => number } {
  let bytes = 0;
  const encode = <T>(records: readonly T[], row: (w: never, r: T) => void) => {
    for (const chunk of encodeRowBinary(records, row as never)) bytes += chunk.length;
  };
  const store = {
    kind: 'bench',
    write: (batch: StoreBatch) => {
      encode(batch.events, eventRow);
      encode(batch.runs, runRow);
      encode(batch.spans, spanRow);
      return Promise.resolve();
    },
  };
  return { store: store as unknown as Store, bytes: () => bytes };
}

/** The main thread's side in both modes: the real pipeline, fed and flushed as the collector does it. */
class MainSide {
  readonly pipeline: IngestPipeline;
  readonly encoded: () => number;
  readonly store: Store;
  processed = 0;
  private readonly timer: NodeJS.Timeout;
  private lastGauges = 0;

  constructor(configText: string) {
    const config = parseConfigText(configText, 'bench.yaml', {});
    const { store, bytes } = insertInto ? { store: clickhouseStore(insertInto), bytes: () => NaN } : encodingStore();
    this.encoded = bytes;
    this.store = store;
    this.pipeline = new IngestPipeline({
      sources: config.sources,
      workflows: config.workflows,
      slos: config.slos,
      pipeline: config.pipeline,
      errors: config.detectors.errors,
      store,
      deadLetterSink: { send: () => Promise.resolve() },
      commit: () => Promise.resolve(),
      metrics: new PipelineMetrics(new Registry(), config.sources.map((s) => s.name)),
      logger: pino({ level: 'silent' }),
    });
    // The collector's tick: event time moves on, the gauges that sweep every run are refreshed
    // every 5 s, and due flushes start between batches too.
    this.timer = setInterval(() => {
      this.pipeline.tick();
      if (Date.now() - this.lastGauges >= 5_000) {
        this.lastGauges = Date.now();
        this.pipeline.updateGauges();
      }
      if (this.pipeline.flushDue()) this.flushInBackground();
    }, 200);
  }

  /** After a batch, as the collector's handleBatch: backlog flag, flush when due, wait when overloaded. */
  async afterBatch(topic: string, partition: number, lastOffset: string, highWatermark: string): Promise<void> {
    this.pipeline.partitionBacklog(topic, partition, BigInt(lastOffset) + 1n < BigInt(highWatermark));
    if (this.pipeline.flushDue()) this.flushInBackground();
    while (this.pipeline.overloaded()) await this.pipeline.flush();
  }

  /** As the collector: the pipeline runs flushes one after another and queues one at most. */
  private flushInBackground(): void {
    this.pipeline.flush().catch((error: unknown) => log(`flush failed: ${String(error)}`));
  }

  /** The last flush runs after any still running: everything processed is then written. */
  async finish(): Promise<void> {
    clearInterval(this.timer);
    await this.pipeline.flush();
  }

  /** After the round's figures are read: the store's connections go. */
  async close(): Promise<void> {
    if (insertInto) await (this.store as ClickHouseStore).shutdown();
  }
}

interface Round {
  mode: 'main' | 'worker';
  seconds: number;
  mainCpu: number;
  workerCpu: number;
  processCpu: number;
  mainElu: number;
  workerElu: number;
  /** Main-thread GC time (s): young-generation scavenges, and the rest (mark-compact and its steps). */
  gcMinor: number;
  gcOther: number;
  bytes: number;
  /** The ClickHouse server's CPU seconds meanwhile (BENCH_STORE=clickhouse). */
  serverCpu: number;
}

/** Main-thread GC time as V8 reports it (s): scavenges of the young generation, and the rest. */
function gcSeconds(profile: ReturnType<GCProfiler['stop']>): { minor: number; other: number } {
  let minor = 0;
  let other = 0;
  for (const gc of profile?.statistics ?? []) {
    if (gc.gcType === 'Scavenge' || gc.gcType === 'MinorMarkSweep') minor += gc.cost;
    else other += gc.cost;
  }
  return { minor: minor / 1e6, other: other / 1e6 };
}

/** Waits for the first batch, then times until `total` messages are processed and flushed. */
class Clock {
  private start: { t: number; cpu: number; proc: number; server: number; elu: ReturnType<typeof performance.eventLoopUtilization> } | undefined;
  private readonly gc = new GCProfiler();

  mark(): void {
    if (this.start) return;
    this.gc.start();
    this.start = { t: performance.now(), cpu: threadCpuMs(), proc: processCpuMs(), server: cpuSeconds(clickhousePid), elu: performance.eventLoopUtilization() };
  }

  read(): { seconds: number; cpu: number; proc: number; server: number; elu: number; gcMinor: number; gcOther: number } {
    const s = this.start!;
    const gc = gcSeconds(this.gc.stop());
    return {
      seconds: (performance.now() - s.t) / 1000,
      cpu: (threadCpuMs() - s.cpu) / 1000,
      proc: (processCpuMs() - s.proc) / 1000,
      server: cpuSeconds(clickhousePid) - s.server,
      elu: performance.eventLoopUtilization(s.elu).utilization,
      gcMinor: gc.minor,
      gcOther: gc.other,
    };
  }
}

async function allOnMain(topics: string[], total: number, configText: string): Promise<Round> {
  const side = new MainSide(configText);
  const clock = new Clock();
  const consumer = kafka.consumer({ groupId: unique('bench-split-main'), maxBytesPerPartition: 4 * 1024 * 1024, maxBytes: 16 * 1024 * 1024, maxWaitTimeInMs: 250 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 1,
    eachBatch: async ({ batch, resolveOffset }) => {
      clock.mark();
      const { messages } = batch;
      if (messages.length === 0) return;
      for (const message of messages) side.pipeline.process(toRaw(message, batch.topic, batch.partition));
      const last = messages[messages.length - 1]!.offset;
      resolveOffset(last);
      side.processed += messages.length;
      await side.afterBatch(batch.topic, batch.partition, last, batch.highWatermark);
      if (side.processed >= total) done();
    },
  });
  await finished;
  await side.finish();
  const t = clock.read();
  await consumer.disconnect();
  await side.close();
  return { mode: 'main', seconds: t.seconds, mainCpu: t.cpu, workerCpu: 0, processCpu: t.proc, mainElu: t.elu, workerElu: 0, gcMinor: t.gcMinor, gcOther: t.gcOther, bytes: side.encoded(), serverCpu: t.server };
}

/** Rebuilds a batch's raw messages on the main thread: views on the transferred bytes, no copy. */
function unpack(b: PackedBatch): RawMessage[] {
  const out: RawMessage[] = new Array(b.offsets.length);
  const whole = Buffer.from(b.bytes);
  let at = 0;
  const values: (Buffer | null)[] = new Array(b.offsets.length);
  for (let i = 0; i < b.offsets.length; i++) {
    const n = b.valueLengths[i]!;
    values[i] = n < 0 ? null : whole.subarray(at, (at += n));
  }
  for (let i = 0; i < b.offsets.length; i++) {
    const n = b.keyLengths[i]!;
    const key = n < 0 ? null : whole.toString('utf8', at, (at += n));
    out[i] = { value: values[i]!, headers: b.headers[i]!, key, timestamp: b.timestamps[i]!, origin: { topic: b.topic, partition: b.partition, offset: String(b.offsets[i]) } };
  }
  return out;
}

async function consumerInWorker(topics: string[], total: number, configText: string): Promise<Round> {
  const side = new MainSide(configText);
  const clock = new Clock();
  const input: WorkerInput = { brokers: KAFKA_BROKERS, groupId: unique('bench-split-worker'), topics, inFlight };
  const worker = new Worker(new URL('./thread-split-worker.ts', import.meta.url), { workerData: input });
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let report: (r: WorkerReport) => void = () => undefined;
  const reported = new Promise<WorkerReport>((resolve) => (report = resolve));
  // One batch at a time, in arrival order, as eachBatch runs in `main`.
  let chain = Promise.resolve();
  worker.on('message', (message: PackedBatch | WorkerReport) => {
    if (message.kind === 'report') return report(message);
    clock.mark();
    chain = chain.then(async () => {
      const raws = unpack(message);
      for (const raw of raws) side.pipeline.process(raw);
      side.processed += raws.length;
      await side.afterBatch(message.topic, message.partition, raws[raws.length - 1]!.origin.offset, message.highWatermark);
      worker.postMessage({ kind: 'ack' });
      if (side.processed >= total) done();
    });
    chain = chain.catch((error: unknown) => void log(`processing a batch failed: ${String(error)}`));
  });
  worker.on('error', (error) => log(`worker failed: ${String(error)}`));
  await finished;
  await side.finish();
  const t = clock.read();
  worker.postMessage({ kind: 'stop' });
  const w = await reported;
  await new Promise((resolve) => worker.once('exit', resolve));
  await side.close();
  return { mode: 'worker', seconds: t.seconds, mainCpu: t.cpu, workerCpu: w.cpuMs / 1000, processCpu: t.proc, mainElu: t.elu, workerElu: w.elu, gcMinor: t.gcMinor, gcOther: t.gcOther, bytes: side.encoded(), serverCpu: t.server };
}

async function main(): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  await producer.connect();
  const id = unique('bench_split');
  const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  const all = Object.values(topics);
  await createTopics(admin, all, 4);
  const scenario = buildScenario(topics, upgrades, Math.floor(upgrades / 10), 's');
  const total = [...scenario.messages.values()].reduce((n, l) => n + l.length, 0);
  log(`producing ${total} messages…`);
  await produceAll(producer, scenario.messages, 5_000);
  await producer.disconnect();
  const configText = scenarioConfig(topics, {
    database: 'x',
    groupId: 'x',
    brokers: KAFKA_BROKERS,
    clickhouseUrl: CLICKHOUSE_URL,
    pipeline: '{ flushInterval: 1s, flushRows: 50000, maxBufferedRows: 300000, idleAdvanceAfter: 5s }',
  });

  if (insertInto) {
    const ch = clickhouseStore(insertInto);
    await ch.start();
    await ch.shutdown();
  }
  const results: Round[] = [];
  const loads: string[] = [];
  for (let i = 0; i < rounds; i++) {
    for (const mode of ['main', 'worker'] as const) {
      const r = mode === 'main' ? await allOnMain(all, total, configText) : await consumerInWorker(all, total, configText);
      const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
      loads.push(load);
      results.push(r);
      log(
        `  round ${i + 1} ${mode}: ${(total / r.seconds).toFixed(0)} msg/s (${r.seconds.toFixed(1)} s); CPU s main ${r.mainCpu.toFixed(2)}, worker ${r.workerCpu.toFixed(2)}, process ${r.processCpu.toFixed(2)}; ELU main ${(r.mainElu * 100).toFixed(0)} %, worker ${(r.workerElu * 100).toFixed(0)} %; GC scavenge ${r.gcMinor.toFixed(2)} s, other ${r.gcOther.toFixed(2)} s${insertInto ? `; ClickHouse ${r.serverCpu.toFixed(2)} CPU s` : ''}; load ${load}`,
      );
    }
  }
  await admin.deleteTopics({ topics: all }).catch(() => undefined);
  if (insertInto) {
    const ch = clickhouseStore(insertInto);
    await ch.command(`DROP DATABASE IF EXISTS ${insertInto}`);
    await ch.shutdown();
  }
  await admin.disconnect();

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const of = (mode: Round['mode'], f: (r: Round) => number) => median(results.filter((r) => r.mode === mode).map(f));
  const rate = (mode: Round['mode']) => of(mode, (r) => total / r.seconds);
  const cell = (mode: Round['mode'], f: (r: Round) => number, digits = 1) => results.filter((r) => r.mode === mode).map((r) => f(r).toFixed(digits)).join(' / ');
  const perMsg = (s: number) => (s * 1e6) / total;
  printColumns(`seamwatch pipeline, Kafka consumer on the main thread or in a worker (${total} messages; each round's figure, / between rounds)`, ['', 'all on main', 'consumer in a worker'], [
    ['msg/s', cell('main', (r) => total / r.seconds, 0), cell('worker', (r) => total / r.seconds, 0)],
    ['median msg/s (worker / main)', rate('main').toFixed(0), `${rate('worker').toFixed(0)} (${((rate('worker') / rate('main')) * 100).toFixed(0)} %)`],
    ['main thread CPU µs/msg', cell('main', (r) => perMsg(r.mainCpu)), cell('worker', (r) => perMsg(r.mainCpu))],
    ['worker thread CPU µs/msg', '—', cell('worker', (r) => perMsg(r.workerCpu))],
    ['process CPU µs/msg (GC helpers incl.)', cell('main', (r) => perMsg(r.processCpu)), cell('worker', (r) => perMsg(r.processCpu))],
    ['main thread event-loop utilization', cell('main', (r) => r.mainElu * 100, 0), cell('worker', (r) => r.mainElu * 100, 0)],
    ['worker event-loop utilization', '—', cell('worker', (r) => r.workerElu * 100, 0)],
    ['main-thread GC, % of its CPU: scavenge', cell('main', (r) => (r.gcMinor / r.mainCpu) * 100, 0), cell('worker', (r) => (r.gcMinor / r.mainCpu) * 100, 0)],
    ['main-thread GC, % of its CPU: other', cell('main', (r) => (r.gcOther / r.mainCpu) * 100, 0), cell('worker', (r) => (r.gcOther / r.mainCpu) * 100, 0)],
    insertInto
      ? ['ClickHouse server CPU µs/msg', cell('main', (r) => perMsg(r.serverCpu)), cell('worker', (r) => perMsg(r.serverCpu))]
      : ['RowBinary MB encoded', cell('main', (r) => r.bytes / 1e6), cell('worker', (r) => r.bytes / 1e6)],
    ['load average after each round', loads.filter((_, i) => i % 2 === 0).join(' | '), loads.filter((_, i) => i % 2 === 1).join(' | ')],
  ]);
}

runBench(main);
