/**
 * npm run bench:http — events/s through the HTTP intake at 1, 10 and 100 events per request.
 *
 * seamwatch runs as a separate process with one HTTP source and no Kafka, on the real ClickHouse.
 * For each batch size, BENCH_CLIENTS concurrent senders post CloudEvents for BENCH_SECONDS: one
 * event per request in structured mode, more in batched mode. Every 202 means the events were
 * stored (the intake answers only after the store acknowledged), so events/s is stored events/s.
 * Baseline in the same run: the same senders against a bare node:http server that reads the body
 * and answers 202, the most this client and HTTP stack could send on this machine.
 *
 * A benchmark, not a test: it asserts nothing.
 */
import { createServer } from 'node:http';
import { cpuSeconds, printTable, runBench } from './report.ts';
import { CLICKHOUSE_URL, store, unique } from '../test/support/services.ts';
import { SeamwatchProcess, freePort, writeConfig } from '../test/support/child.ts';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 8);
const clients = Number(process.env['BENCH_CLIENTS'] ?? 16);
const sizes = [1, 10, 100];
const log = (text: string) => process.stderr.write(`${text}\n`);

interface Result {
  events: number;
  requests: number;
  refused: number;
  seconds: number;
  p50: number;
  p99: number;
}

function event(run: string, n: number): string {
  const c = `${run}-${n}`;
  return JSON.stringify({ specversion: '1.0', id: `crm-${c}`, source: 'crm', type: 'subscription.upgraded', correlationid: c, time: new Date().toISOString(), data: { plan: 'pro' } });
}

/** Posts for `seconds` from `clients` senders; returns what was answered 202. */
async function load(url: string, size: number, run: string): Promise<Result> {
  let n = 0;
  let events = 0;
  let requests = 0;
  let refused = 0;
  const latencies: number[] = [];
  const started = performance.now();
  const until = started + seconds * 1000;
  const sender = async () => {
    while (performance.now() < until) {
      const batch = Array.from({ length: size }, () => event(run, n++));
      const body = size === 1 ? batch[0]! : `[${batch.join(',')}]`;
      const type = size === 1 ? 'application/cloudevents+json' : 'application/cloudevents-batch+json';
      const t0 = performance.now();
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      requests += 1;
      if (res.status === 202) events += size;
      else refused += 1;
    }
  };
  await Promise.all(Array.from({ length: clients }, sender));
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { events, requests, refused, seconds: (performance.now() - started) / 1000, p50: at(0.5), p99: at(0.99) };
}

async function main(): Promise<void> {
  const id = unique('benchhttp');
  const ch = store(id);
  const intakePort = await freePort();
  const apiPort = await freePort();
  const config = writeConfig(`
sources:
  - { name: crm, transport: http }
workflows:
  - name: plan-upgrade
    owner: billing-platform
    trigger: { source: crm, type: subscription.upgraded }
    steps:
      - { name: invoice-updated, source: crm, type: invoice.updated }
    deadline: 5m
store: { clickhouse: { url: "${CLICKHOUSE_URL}", database: ${id} } }
httpIntake: { port: ${intakePort} }
log: { level: warn }
`);
  const baseline = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":1}'));
  });
  await new Promise<void>((resolve) => baseline.listen(0, '127.0.0.1', resolve));
  const baselinePort = (baseline.address() as { port: number }).port;
  const seamwatch = new SeamwatchProcess(config, apiPort);
  try {
    await seamwatch.ready();
    const rows: [string, string][] = [];
    for (const size of sizes) {
      log(`baseline, ${size} per request…`);
      const base = await load(`http://127.0.0.1:${baselinePort}/`, size, `${id}-b${size}`);
      log(`seamwatch, ${size} per request…`);
      const cpu0 = cpuSeconds(seamwatch.child.pid);
      const got = await load(`http://127.0.0.1:${intakePort}/ingest/crm`, size, `${id}-s${size}`);
      const cpu = cpuSeconds(seamwatch.child.pid) - cpu0;
      rows.push([
        `${size} event(s)/request`,
        `seamwatch ${Math.round(got.events / got.seconds)} events/s (${Math.round(got.requests / got.seconds)} req/s, p50 ${got.p50.toFixed(1)} ms, p99 ${got.p99.toFixed(1)} ms to a stored 202, ${got.refused} not 202, ${(cpu / got.seconds).toFixed(2)} cores) · bare node:http ${Math.round(base.events / base.seconds)} events/s`,
      ]);
    }
    const [stored] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM ${id}.events`);
    rows.push(['events stored in ClickHouse', String(stored?.n)]);
    printTable(`HTTP intake, ${clients} concurrent senders, ${seconds} s per batch size`, rows);
  } finally {
    await seamwatch.stop();
    baseline.close();
    await ch.command(`DROP DATABASE IF EXISTS ${id}`).catch(() => undefined);
    await ch.shutdown();
  }
}

runBench(main);
