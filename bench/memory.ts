/**
 * npm run bench:memory — how much memory seamwatch needs to hold 1M open runs (target < 1 GiB).
 *
 * Feeds plan-upgrade triggers (structured CloudEvents, decoded as the Kafka collector's
 * messages are) through the contract check into the stitcher, each opening a run whose
 * deadline is far away, draining the rows every 50k as a flush would (the rows are dropped: a
 * store is not what is measured). Then it prints the process's RSS and V8 heap after a full GC,
 * per run, beside the same process before the first run. Runs with --expose-gc (see package.json).
 * BENCH_OPEN_RUNS (default 1000000). A benchmark: it prints, it asserts nothing.
 */
import { printTable, runBench } from './report.ts';
import { scenarioConfig } from '../test/support/scenario.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS } from '../test/support/services.ts';
import { parseConfigText } from '../src/config/load.ts';
import { checkContract, decoderFor } from '../src/collectors/decode/index.ts';
import { Stitcher } from '../src/stitch/stitcher.ts';

const OPEN_RUNS = Number(process.env['BENCH_OPEN_RUNS'] ?? 1_000_000);
const log = (text: string) => process.stderr.write(`${text}\n`);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => log('(run with --expose-gc for figures after a full GC)'));
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

function settled(): { rss: number; heap: number; committed: number; external: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, committed: m.heapTotal, external: m.external };
}

async function main(): Promise<void> {
  const topics = { crm: 'mem.crm', billing: 'mem.billing', ticketing: 'mem.ticketing' };
  // A deadline of a week: every run stays open however far the triggers' event time goes.
  const config = parseConfigText(scenarioConfig(topics, { database: 'x', groupId: 'x', brokers: KAFKA_BROKERS, clickhouseUrl: CLICKHOUSE_URL, upgradeDeadline: '7d' }), 'bench.yaml', {});
  const source = config.sources.find((s) => s.name === 'crm')!;
  const decode = decoderFor(source);
  const contract = { source: source.name, maxFieldLength: config.pipeline.maxFieldLength, maxTimeAhead: config.pipeline.maxTimeAhead };
  const stitcher = new Stitcher(config.workflows, config.pipeline);
  const before = settled();
  const t0 = Date.now() - 30 * 86_400_000;
  const started = performance.now();
  for (let i = 0; i < OPEN_RUNS; i++) {
    const c = `mem-${i.toString(36)}-${(i * 2654435761) % 1e9}`;
    const value = Buffer.from(
      JSON.stringify({ specversion: '1.0', id: `crm-${c}`, source: 'crm', type: 'subscription.upgraded', time: new Date(t0 + i).toISOString(), correlationid: c, datacontenttype: 'application/json', data: { plan: 'pro', account: `acct-${i}` } }),
    );
    const now = Date.now();
    const result = checkContract(decode({ value, headers: { 'content-type': 'application/cloudevents+json' }, key: c, timestamp: now, origin: { topic: topics.crm, partition: i % 4, offset: String(i >> 2) } }), contract, now);
    if (result.ok) stitcher.apply(result.event, now);
    if (stitcher.pendingRows >= 50_000) {
      stitcher.tick(now);
      stitcher.drain(now);
    }
    if (i % 200_000 === 199_999) log(`  ${i + 1} runs open, RSS ${mib(process.memoryUsage().rss)}`);
  }
  stitcher.tick(Date.now());
  stitcher.drain(Date.now());
  const seconds = (performance.now() - started) / 1000;
  const after = settled();
  const counts = stitcher.stateCounts();
  printTable('seamwatch memory with open runs held', [
    ['open runs held', `${counts.open} (of ${OPEN_RUNS} triggers; ${stitcher.openRuns} runs in memory)`],
    ['RSS before / with the runs (after full GC)', `${mib(before.rss)} / ${mib(after.rss)}  (target < 1024 MiB)`],
    ['V8 heap used before / with the runs', `${mib(before.heap)} / ${mib(after.heap)}`],
    // RSS beyond the heap used: pages V8 keeps committed after the GC, and memory outside it.
    ['V8 heap committed / external, with the runs', `${mib(after.committed)} / ${mib(after.external)}`],
    ['per open run (heap, incl. its dedupe key)', `${((after.heap - before.heap) / OPEN_RUNS).toFixed(0)} bytes`],
    ['dedupe keys held (pipeline.dedupeMaxKeys)', `${Math.min(OPEN_RUNS, config.pipeline.dedupeMaxKeys)}`],
    ['time to open them (decode + stitch)', `${seconds.toFixed(1)} s`],
  ]);
}

runBench(main);
