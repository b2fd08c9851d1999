/**
 * npm run bench:hot-path — the ingest hot path inside one process, without Kafka, so that one
 * change can be weighed against another in the same run on a busy machine (the end-to-end
 * bench's figures swing with whatever else the two cores are doing).
 *
 * 1. Decode + contract + dedupe + stitch the bench:ingest stream (as the pipeline does for each
 *    message), draining rows every 50k as a flush would: CPU µs per message.
 * 2. Encode the drained events, runs and spans as JSONCompactEachRow and as RowBinary, alternating:
 *    CPU per row on our side.
 * 3. Insert them, alternating, as RowBinary into the ClickHouse server (our CPU and the server's,
 *    from /proc/<pid>/stat, per row, and wall time) and as JSONCompactEachRow into the embedded
 *    engine (CPU of this process, chdb's included).
 *
 * 4. (BENCH_TICK_RUNS > 0, default 200000) The stitcher's tick with that many runs held and a
 *    steady stream coming due: events apply and a tick follows every 500 (a Kafka batch), as the
 *    collector does. BENCH_TICK_ONLY=1 runs this part alone (no ClickHouse needed).
 *
 * BENCH_BASELINE=<checkout dir> weighs that checkout's Stitcher against this one's in 1 and 4,
 * alternating rounds.
 *
 * This is a benchmark, not a test: it asserts nothing. BENCH_UPGRADES (default 60000), BENCH_ROUNDS (3).
 */
import { Readable } from 'node:stream';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Message } from 'kafkajs';
import { cpuSeconds, printTable, runBench } from './report.ts';
import { buildScenario, scenarioConfig } from '../test/support/scenario.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, childEmbeddedPath, removeEmbeddedPath, store, unique } from '../test/support/services.ts';
import type { RawInsert } from '../src/store/clickhouse/engine.ts';
import type { ClickHouseStore } from '../src/store/clickhouse/clickhouse-store.ts';
import { parseConfigText } from '../src/config/load.ts';
import { checkContract, decoderFor, type RawMessage } from '../src/collectors/decode/index.ts';
import { Stitcher } from '../src/stitch/stitcher.ts';
import type { EventRecord, RunRecord, SpanRecord } from '../src/domain/records.ts';
import { eventValues, runValues, spanValues } from '../src/store/clickhouse/rows.ts';
import { EVENT_COLUMNS, RUN_COLUMNS, SPAN_COLUMNS, eventRow, runRow, spanRow } from '../src/store/clickhouse/binary-rows.ts';
import { encodeRowBinary, type RowBinaryWriter } from '../src/store/clickhouse/row-binary.ts';
import type { WorkflowDefinition } from '../src/domain/workflow.ts';
import type { WorkflowEvent } from '../src/domain/event.ts';

const upgrades = Number(process.env['BENCH_UPGRADES'] ?? 60_000);
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
const servicesDir = process.env['BENCH_SERVICES_DIR'] ?? '.services';
const tickRuns = Number(process.env['BENCH_TICK_RUNS'] ?? 200_000);
const baseline = process.env['BENCH_BASELINE'];
const log = (text: string) => process.stderr.write(`${text}\n`);

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function toRaw(topic: string, partitions: number, offsets: Map<string, number>, m: Message): RawMessage {
  const key = m.key === undefined || m.key === null ? null : String(m.key);
  let hash = 0;
  for (let i = 0; key && i < key.length; i++) hash = (hash * 31 + key.charCodeAt(i)) | 0;
  const partition = m.partition ?? Math.abs(hash) % partitions;
  const slot = `${topic}/${partition}`;
  const offset = offsets.get(slot) ?? 0;
  offsets.set(slot, offset + 1);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = String(v);
  return {
    value: m.value === null || m.value === undefined ? null : Buffer.from(m.value as string | Buffer),
    headers,
    key,
    timestamp: Date.now(),
    origin: { topic, partition, offset: String(offset) },
  };
}

interface Rows {
  events: EventRecord[];
  runs: RunRecord[];
  spans: SpanRecord[];
}

function stitchAll(raws: RawMessage[], configText: string, Impl: StitcherClass = Stitcher): { cpu: number; wall: number; rows: Rows; batches: Rows[] } {
  const config = parseConfigText(configText, 'bench.yaml', {});
  const stitcher = new Impl(config.workflows, config.pipeline);
  const decoders = new Map(config.sources.map((s) => [s.topic, { decode: decoderFor(s), source: s.name }]));
  const contract = { maxFieldLength: config.pipeline.maxFieldLength, maxTimeAhead: config.pipeline.maxTimeAhead };
  const batches: Rows[] = [];
  const all: Rows = { events: [], runs: [], spans: [] };
  const drain = (now: number) => {
    stitcher.tick(now);
    const out = stitcher.drain(now);
    batches.push({ events: out.events, runs: out.runs, spans: out.spans });
  };
  const cpu0 = cpuMs();
  const t0 = performance.now();
  for (const raw of raws) {
    const now = Date.now();
    const d = decoders.get(raw.origin.topic)!;
    const result = checkContract(d.decode(raw), { source: d.source, ...contract }, now);
    if (result.ok) stitcher.apply(result.event, now);
    if (stitcher.pendingRows >= 50_000) drain(now);
  }
  drain(Date.now());
  const cpu = cpuMs() - cpu0;
  const wall = performance.now() - t0;
  for (const b of batches) {
    for (const e of b.events) all.events.push(e);
    for (const r of b.runs) all.runs.push(r);
    for (const s of b.spans) all.spans.push(s);
  }
  return { cpu, wall, rows: all, batches };
}

type Format = 'JSONCompactEachRow' | 'RowBinary';
const TABLES = [
  ['events', EVENT_COLUMNS, eventValues, eventRow],
  ['runs', RUN_COLUMNS, runValues, runRow],
  ['spans', SPAN_COLUMNS, spanValues, spanRow],
] as const;

function* jsonChunks<T>(records: readonly T[], line: (r: T) => string): Generator<Buffer> {
  for (let i = 0; i < records.length; i += 2_000) yield Buffer.from(records.slice(i, i + 2_000).map(line).join(''));
}

function body(format: Format, records: readonly unknown[], line: (r: never) => string, row: (w: RowBinaryWriter, r: never) => void): Iterable<Buffer> {
  return format === 'RowBinary' ? encodeRowBinary(records as never[], row) : jsonChunks(records as never[], line);
}

function encodeOnly(format: Format, rows: Rows): { cpu: number; bytes: number } {
  const c0 = cpuMs();
  let bytes = 0;
  for (const [name, , line, row] of TABLES) for (const chunk of body(format, rows[name], line as never, row as never)) bytes += chunk.length;
  return { cpu: cpuMs() - c0, bytes };
}

/**
 * Inserts every flush's rows in the format each engine takes: RowBinary into the ClickHouse
 * server (18.16 knows no JSONCompactEachRow), JSONCompactEachRow into the embedded engine through
 * the store's raw insert (chdb takes no binary format). The embedded engine runs in this
 * process, so its "ours" includes ClickHouse's own work and it has no separate server figure.
 */
async function insertAll(format: Format, batches: Rows[], db: string, chPid: number | undefined, embeddedStore: ClickHouseStore): Promise<{ cpu: number; server: number; wall: number }> {
  const embedded = format === 'JSONCompactEachRow';
  const ch = embedded ? embeddedStore : store(db);
  const client = (ch as unknown as { client: import('@clickhouse/client').ClickHouseClient }).client;
  const rawInsert = (ch as unknown as { rawInsert: RawInsert | undefined }).rawInsert;
  const c0 = cpuMs();
  const s0 = embedded ? 0 : cpuSeconds(chPid);
  const t0 = performance.now();
  for (const batch of batches) {
    await Promise.all(
      TABLES.map(async ([name, columns, line, row]) => {
        const records = batch[name];
        if (records.length === 0) return;
        if (rawInsert) return rawInsert(`${db}.${name}`, columns, Buffer.concat([...body(format, records, line as never, row as never)]), 'JSONCompactEachRow');
        // A kept-alive socket the server has just closed fails the first write (EPIPE): once more.
        for (let attempt = 1; ; attempt++) {
          try {
            const result = await client.exec({
              query: `INSERT INTO ${db}.${name}_b (${columns}) FORMAT ${format}`,
              values: Readable.from(body(format, records, line as never, row as never)),
            });
            result.stream.resume();
            await new Promise((r) => result.stream.on('end', r));
            return;
          } catch (error) {
            if (attempt >= 3) throw error;
            log(`  ${format} insert into ${name} failed (${String(error)}); again`);
          }
        }
      }),
    );
  }
  const out = { cpu: cpuMs() - c0, server: embedded ? NaN : (cpuSeconds(chPid) - s0) * 1000, wall: performance.now() - t0 };
  if (!embedded) await ch.shutdown();
  return out;
}

type StitcherClass = typeof Stitcher;

async function baselineStitcher(): Promise<StitcherClass | undefined> {
  if (!baseline) return undefined;
  return ((await import(join(baseline, 'src/stitch/stitcher.ts'))) as { Stitcher: StitcherClass }).Stitcher;
}

const TICK_WORKFLOW: WorkflowDefinition = {
  name: 'w',
  owner: 'bench',
  trigger: { source: 'a', type: 'started' },
  steps: [{ name: 'done', source: 'b', type: 'done', required: true, failOn: [] }],
  compensation: [],
  deadline: 5 * 60_000,
};


/**
 * `tickRuns` triggers over five minutes of event time (the deadline), then as many events again
 * at the same rate, triggers and steps alternating (a step 30 s after its trigger; one run in
 * ten never gets it, so misses its deadline), a tick after every 500: CPU of the second half.
 */
function tickCost(Impl: StitcherClass): { cpu: number; events: number; visited: number | undefined; held: number } {
  const s = new Impl([TICK_WORKFLOW], { dedupeWindow: 600_000, dedupeMaxKeys: 500_000, holdUnmatchedFor: 3_600_000, allowedLateness: 30_000, idleAdvanceAfter: 30_000, closedRunRetention: 900_000, closedRunMemory: 200_000 });
  const t0 = Date.UTC(2026, 0, 1);
  const dt = 300_000 / tickRuns;
  const lag = Math.round(30_000 / dt / 2);
  const origin = (topic: string, i: number) => ({ topic, partition: i % 4, offset: String(i) });
  const trigger = (k: number, time: number): WorkflowEvent => ({ source: 'a', id: `a-${k}`, type: 'started', time, correlationId: `c-${k}`, origin: origin('a', k) });
  const step = (k: number, time: number): WorkflowEvent => ({ source: 'b', id: `b-${k}`, type: 'done', time, correlationId: `c-${k}`, origin: origin('b', k) });
  let k = 0;
  let time = t0;
  for (; k < tickRuns; k++, time += dt) s.apply(trigger(k, time), time + 1_000);
  s.tick(time + 1_000);
  s.drain(time + 1_000);
  const visited0 = s.counters.runsVisited;
  const c0 = cpuMs();
  let events = 0;
  for (let i = 0; k < 2 * tickRuns; i++, time += dt) {
    const j = (i & 1) === 0 ? k++ : k - lag;
    const event = (i & 1) === 0 ? trigger(j, time) : step(j, time);
    if ((i & 1) === 0 || j % 10 !== 0) {
      s.apply(event, time + 1_000);
      events++;
    }
    if (i % 500 === 499) {
      s.tick(time + 1_000);
      if (s.pendingRows >= 50_000) s.drain(time + 1_000);
    }
  }
  const cpu = cpuMs() - c0;
  const visited = s.counters.runsVisited === undefined ? undefined : s.counters.runsVisited - visited0;
  return { cpu, events, visited, held: s.openRuns };
}

async function tickBench(): Promise<void> {
  const variants: [string, StitcherClass][] = [['this checkout', Stitcher]];
  const Baseline = await baselineStitcher();
  if (Baseline) variants.push([`baseline (${baseline})`, Baseline]);
  log(`ticking with ${tickRuns} runs held, ${rounds} rounds, ${variants.map((v) => v[0]).join(' / ')} alternating…`);
  const results = new Map<string, ReturnType<typeof tickCost>[]>(variants.map(([name]) => [name, []]));
  for (let i = 0; i < rounds; i++) for (const [name, Impl] of variants) results.get(name)!.push(tickCost(Impl));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  printTable(`stitcher apply + tick, ${tickRuns} runs held, a tick every 500 events (medians of ${rounds} rounds)`, [
    ...[...results].map(([name, rs]): [string, string] => {
      const r = rs[0]!;
      const cpu = median(rs.map((x) => x.cpu));
      return [name, `${((cpu * 1000) / r.events).toFixed(2)} µs/event (${rs.map((x) => x.cpu.toFixed(0)).join(', ')} ms for ${r.events} events), ${r.held} runs at the end${r.visited === undefined ? '' : `, ${r.visited} runs taken up by ticks`}`];
    }),
  ]);
}

async function main(): Promise<void> {
  if (tickRuns > 0) await tickBench();
  if (process.env['BENCH_TICK_ONLY'] === '1') return;
  const topics = { crm: 'bench.crm', billing: 'bench.billing', ticketing: 'bench.ticketing' };
  const scenario = buildScenario(topics, upgrades, Math.floor(upgrades / 10), 'h');
  const offsets = new Map<string, number>();
  const raws: RawMessage[] = [];
  for (const [topic, list] of scenario.messages) for (const m of list) raws.push(toRaw(topic, 4, offsets, m));
  // Interleave topics roughly as a consumer would see them: by event order within each topic.
  const configText = scenarioConfig(topics, { database: 'x', groupId: 'x', brokers: KAFKA_BROKERS, clickhouseUrl: CLICKHOUSE_URL });
  log(`stitching ${raws.length} messages in process, ${rounds} rounds…`);
  const stitchRuns = [];
  const baselineRuns: number[] = [];
  const Baseline = await baselineStitcher();
  let rows: Rows | undefined;
  let batches: Rows[] = [];
  for (let i = 0; i < rounds; i++) {
    if (Baseline) baselineRuns.push(stitchAll(raws, configText, Baseline).cpu);
    const r = stitchAll(raws, configText);
    stitchRuns.push(r);
    rows = r.rows;
    batches = r.batches;
  }
  const totalRows = rows!.events.length + rows!.runs.length + rows!.spans.length;
  log(`encoding ${totalRows} rows in both formats, ${rounds} rounds each, alternating…`);
  const enc: Record<Format, { cpu: number; bytes: number }[]> = { JSONCompactEachRow: [], RowBinary: [] };
  for (let i = 0; i < rounds; i++) for (const f of ['JSONCompactEachRow', 'RowBinary'] as const) enc[f].push(encodeOnly(f, rows!));

  const db = unique('bench_hot');
  const ch = store(db);
  await ch.start();
  for (const [name] of TABLES) await ch.command(`CREATE TABLE ${db}.${name}_b AS ${db}.${name}`);
  const chPid = (() => {
    try {
      return Number(readFileSync(join(servicesDir, 'clickhouse/clickhouse-server.pid'), 'utf8').trim());
    } catch {
      return undefined;
    }
  })();
  log(`inserting RowBinary into the ClickHouse server and JSONCompactEachRow into the embedded engine, alternating (${batches.length} flushes each)…`);
  const ins: Record<Format, { cpu: number; server: number; wall: number }[]> = { JSONCompactEachRow: [], RowBinary: [] };
  const embeddedPath = childEmbeddedPath();
  const embedded = store(db, 'embedded', embeddedPath);
  await embedded.start();
  try {
    for (let i = 0; i < rounds; i++) for (const f of ['JSONCompactEachRow', 'RowBinary'] as const) ins[f].push(await insertAll(f, batches, db, chPid, embedded));
  } finally {
    await embedded.shutdown();
    removeEmbeddedPath(embeddedPath);
  }
  await ch.command(`DROP DATABASE IF EXISTS ${db}`);
  await ch.shutdown();

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const perMsg = (ms: number) => `${((ms * 1000) / raws.length).toFixed(2)} µs/msg`;
  const perRow = (ms: number) => `${((ms * 1000) / totalRows).toFixed(2)} µs/row`;
  const s = median(stitchRuns.map((r) => r.cpu));
  const encJ = median(enc.JSONCompactEachRow.map((e) => e.cpu));
  const encB = median(enc.RowBinary.map((e) => e.cpu));
  const m = (f: Format, k: 'cpu' | 'server' | 'wall') => median(ins[f].map((x) => x[k]));
  printTable('seamwatch hot path, in one process (medians of rounds)', [
    ['messages / rows (events+runs+spans)', `${raws.length} / ${totalRows} (${rows!.events.length}+${rows!.runs.length}+${rows!.spans.length})`],
    ['decode+contract+dedupe+stitch+drain', `${perMsg(s)} (${(raws.length / (s / 1000)).toFixed(0)} msg/s of one core)`],
    ...(Baseline ? [['  the same with the baseline Stitcher', `${perMsg(median(baselineRuns))} (rounds: ${baselineRuns.map(perMsg).join(', ')}; this checkout: ${stitchRuns.map((r) => perMsg(r.cpu)).join(', ')})`] as [string, string]] : []),
    ['encode JSONCompactEachRow', `${perRow(encJ)}, ${(median(enc.JSONCompactEachRow.map((e) => e.bytes)) / totalRows).toFixed(0)} B/row`],
    ['encode RowBinary', `${perRow(encB)}, ${(median(enc.RowBinary.map((e) => e.bytes)) / totalRows).toFixed(0)} B/row (${((encB / encJ) * 100).toFixed(0)} % of JSON)`],
    ['insert JSONCompactEachRow, embedded: ours with ClickHouse / wall', `${perRow(m('JSONCompactEachRow', 'cpu'))} / ${(m('JSONCompactEachRow', 'wall') / 1000).toFixed(2)} s`],
    ['insert RowBinary, server: ours / server / wall', `${perRow(m('RowBinary', 'cpu'))} / ${perRow(m('RowBinary', 'server'))} / ${(m('RowBinary', 'wall') / 1000).toFixed(2)} s`],
    ['main thread per message, server engine (stitch + RowBinary insert)', perMsg(s + m('RowBinary', 'cpu'))],
    ['process per message, embedded engine (stitch + JSONCompactEachRow insert, ClickHouse included)', perMsg(s + m('JSONCompactEachRow', 'cpu'))],
  ]);
}

runBench(main);
