/**
 * `npm run bench:soak`: eight weeks of event time at a realistic rate through seamwatch as
 * `npm start` runs it (the embedded store, every detector kind on, a webhook receiver paging),
 * wall time compressed — the pipeline judges in event time, so a simulated day takes seconds.
 * After each simulated day it prints RSS and the size of every piece of state that must not
 * grow: open runs, held steps, dedupe keys, detector memory, alert book, notification log,
 * state document bytes. They must level off once the longest window (35 days of duplicate
 * invoices, the 14-day resolved-alert retention, the 7-day run horizon) is full.
 *
 *   SOAK_DAYS (default 56), SOAK_UPGRADES_PER_DAY (default 500), SOAK_TICKETS_PER_DAY (default 150)
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kafka, logLevel, type Message } from 'kafkajs';
import { parse, stringify } from 'yaml';
import { Seamwatch } from '../src/app.ts';
import { loadConfig } from '../src/config/load.ts';
import { entryCount } from '../src/base/entry-count.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { printColumns, runBench } from './report.ts';
import { groupLag, unique, KAFKA_BROKERS } from '../test/support/services.ts';

const ROOT = resolve(import.meta.dirname, '..');
const DAY = 86_400_000;
// Eight weeks by default: four weeks fill the 28-day SLO window, and state held for the longest
// windows (35 days of invoices for the duplicate detector, then 14 days of resolved alerts)
// only stops growing after seven.
const DAYS = Number(process.env['SOAK_DAYS'] ?? 56);
const UPGRADES = Number(process.env['SOAK_UPGRADES_PER_DAY'] ?? 500);
const TICKETS = Number(process.env['SOAK_TICKETS_PER_DAY'] ?? 150);
const PARTITIONS = 4;

/** A small deterministic generator, so two runs replay the same weeks. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Topics {
  crm: string;
  billing: string;
  ticketing: string;
}

const ce = (source: string, type: string, id: string, c: string, time: number, data: object = {}): Message => ({
  key: c,
  value: JSON.stringify({ specversion: '1.0', id, source, type, time: new Date(time).toISOString(), correlationid: c, data }),
});
const bill = (type: string, id: string, c: string, time: number, object: object = {}): Message => ({
  key: c,
  value: JSON.stringify({ id, type, created: Math.floor(time / 1000), data: { object: { customer: `cus_${c}`, metadata: { correlation_id: c }, ...object } } }),
});

/**
 * One day of a small company: plan upgrades (most fine; some late, some never entitled, some
 * charged and declined, a few compensated, a few invoiced twice, a few voided and paid), tickets
 * (a few stuck for a day), and hourly heartbeats on every partition.
 */
function day(topics: Topics, d: number, start: number, r: () => number): Map<string, Message[]> {
  const timed: { topic: string; time: number; m: Message }[] = [];
  const add = (topic: string, time: number, m: Message) => timed.push({ topic, time, m });
  const period = new Date(start).toISOString().slice(0, 7);
  for (let i = 0; i < UPGRADES; i++) {
    const c = `up-${d}-${i}`;
    const t = start + Math.floor((i / UPGRADES) * DAY);
    const roll = r();
    add(topics.crm, t, ce('crm', 'subscription.upgraded', `crm-${c}`, c, t, { plan: 'pro' }));
    add(topics.billing, t + 10_000, bill('invoice.updated', `inv-${c}`, c, t + 10_000));
    const account = `acct-${d}-${i}`;
    add(topics.billing, t + 12_000, bill('invoice.created', `ic-${c}`, c, t + 12_000, { account_id: account, billing_period: period }));
    if (roll < 0.02) add(topics.billing, t + 14_000, bill('invoice.created', `ic2-${c}`, c, t + 14_000, { account_id: account, billing_period: period }));
    if (roll >= 0.02 && roll < 0.04) add(topics.billing, t + 15_000, bill('entitlement.failed', `ef-${c}`, c, t + 15_000, { last_error: { code: 'card_declined', message: 'declined' } }));
    else if (roll >= 0.04 && roll < 0.06) {
      // never entitled: a missed deadline
    } else add(topics.billing, t + (roll < 0.09 ? 7 * 60_000 : 20_000), bill('entitlement.activated', `ea-${c}`, c, t + (roll < 0.09 ? 7 * 60_000 : 20_000)));
    if (roll >= 0.09 && roll < 0.1) add(topics.crm, t + 40_000, ce('crm', 'subscription.upgrade_reverted', `rev-${c}`, c, t + 40_000));
    if (roll >= 0.1 && roll < 0.105) {
      add(topics.billing, t + 60_000, bill('invoice.voided', `iv-${c}`, c, t + 60_000));
      add(topics.billing, t + 61_000, bill('invoice.paid', `ip-${c}`, c, t + 61_000));
    }
    if (i % 3 === 0) add(topics.ticketing, t + 30_000, ce('ticketing', 'ticket.tagged', `tag-${c}`, c, t + 30_000));
  }
  for (let i = 0; i < TICKETS; i++) {
    const c = `tk-${d}-${i}`;
    const t = start + Math.floor((i / TICKETS) * DAY);
    add(topics.ticketing, t, ce('ticketing', 'ticket.opened', `to-${c}`, c, t));
    add(topics.ticketing, t + 20 * 60_000, ce('ticketing', 'ticket.triaged', `tt-${c}`, c, t + 20 * 60_000));
    // One in twenty waits a day (stuck, paged, then resolved); the rest two hours.
    add(topics.ticketing, t + (i % 20 === 0 ? DAY : 2 * 3_600_000), ce('ticketing', 'ticket.resolved', `tr-${c}`, c, t + (i % 20 === 0 ? DAY : 2 * 3_600_000)));
  }
  for (let h = 0; h < 24; h++) {
    const t = start + h * 3_600_000;
    for (let p = 0; p < PARTITIONS; p++) {
      add(topics.crm, t, { ...ce('crm', 'seamwatch.heartbeat', `hb-${t}-${p}`, `hb-${p}`, t), partition: p });
      add(topics.ticketing, t, { ...ce('ticketing', 'seamwatch.heartbeat', `hb-${t}-${p}`, `hb-${p}`, t), partition: p });
      add(topics.billing, t, { ...bill('heartbeat', `hb-${t}-${p}`, `hb-${p}`, t), partition: p });
    }
  }
  timed.sort((a, b) => a.time - b.time);
  const out = new Map<string, Message[]>(Object.values(topics).map((t) => [t, []]));
  for (const { topic, m } of timed) out.get(topic)!.push(m);
  return out;
}

function rssMb(): number {
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024);
}

async function main(): Promise<void> {
  const id = unique('soak');
  const topics: Topics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  const dir = mkdtempSync(join(tmpdir(), 'seamwatch-soak-'));
  // A webhook receiver that answers at once: the notification log fills as with a real pager.
  let pages = 0;
  const hook = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      pages++;
      res.end('ok');
    });
  });
  await new Promise<void>((done) => hook.listen(0, '127.0.0.1', done));
  const hookPort = (hook.address() as { port: number }).port;

  const example = parse(readFileSync(join(ROOT, 'config/seamwatch.yaml'), 'utf8')) as Record<string, any>;
  example.sources = example.sources.map((s: { name: keyof Topics }) => ({ ...s, topic: topics[s.name] }));
  example.openslo = [join(ROOT, 'config/openslo/upgrade-success.yaml')];
  example.kafka = { brokers: KAFKA_BROKERS, groupId: `${id}-group` };
  example.store = { kind: 'embedded', embedded: { path: join(dir, 'clickhouse'), database: 'soak' } };
  example.http = { port: 0 };
  example.log = { level: 'error' };
  // Event time moves with the replayed days, never with the (compressed) wall clock.
  example.pipeline = { ...example.pipeline, idleAdvanceAfter: '1h', flushInterval: '200ms' };
  example.detectors.exclusiveOutcomes = [
    { name: 'invoice-voided-and-paid', owner: 'billing-platform', outcomes: [{ name: 'voided', source: 'billing', type: 'invoice.voided' }, { name: 'paid', source: 'billing', type: 'invoice.paid' }] },
  ];
  example.detectors.sourceSilence = [{ name: 'billing-silent', owner: 'billing-platform', sources: ['billing'], after: '2h' }];
  example.receivers = [{ name: 'hook', webhook: { url: `http://127.0.0.1:${hookPort}/page` } }];
  example.routes = { receiver: 'hook', group_by: ['team', 'detector'], group_wait: '0s', group_interval: '1s', repeat_interval: '4h' };
  const file = join(dir, 'soak.yaml');
  writeFileSync(file, stringify(example));
  const config = await loadConfig(file);

  const kafka = new Kafka({ clientId: 'soak', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer();
  await admin.connect();
  await producer.connect();
  await admin.createTopics({ topics: Object.values(topics).map((topic) => ({ topic, numPartitions: PARTITIONS })), waitForLeaders: true });

  const app = new Seamwatch({ config, logger: createLogger('error') });
  await app.start();
  const r = seeded(28);
  const first = Date.now() - (DAYS + 1) * DAY;
  const rows: string[][] = [];
  const started = Date.now();
  let produced = 0;
  try {
    for (let d = 0; d < DAYS; d++) {
      const messages = day(topics, d, first + d * DAY, r);
      const all = [...messages].flatMap(([topic, list]) => list.map((m) => ({ topic, m })));
      produced += all.length;
      for (let i = 0; i < all.length; i += 2_000) {
        const slice = all.slice(i, i + 2_000);
        const byTopic = new Map<string, Message[]>();
        for (const { topic, m } of slice) byTopic.set(topic, [...(byTopic.get(topic) ?? []), m]);
        await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })) });
      }
      const waitStart = Date.now();
      while ((await groupLag(admin, `${id}-group`, Object.values(topics))) > 0) {
        if (Date.now() - waitStart > 120_000) throw new Error(`day ${d + 1} not committed after 120 s`);
        await new Promise((res) => setTimeout(res, 200));
      }
      // A tick or two for timers and the periodic alert-state save to follow.
      await new Promise((res) => setTimeout(res, 1_500));
      global.gc?.();
      const stitcher = app.pipeline.stitcher;
      const documents = await app.store.documentsWithPrefix('');
      const docBytes = [...documents.values()].reduce((n, doc) => n + Buffer.byteLength(doc), 0);
      rows.push([
        String(d + 1),
        String(produced),
        String(rssMb()),
        String(Math.round(process.memoryUsage().heapUsed / 1024 / 1024)),
        String(stitcher.openRuns),
        String(stitcher.heldCount()),
        String(stitcher.dedupeKeys),
        String(app.alerts.memoryEntries()),
        String(app.alerts.bookSize),
        String(entryCount(app.notificationLog.state)),
        String(docBytes),
        String(pages),
      ]);
      process.stderr.write(`soak: day ${d + 1}/${DAYS} (${Math.round((Date.now() - started) / 1000)} s) ${rows.at(-1)!.join(' ')}\n`);
    }
  } finally {
    await app.shutdown().catch(() => undefined);
    await admin.deleteTopics({ topics: [...Object.values(topics), ...Object.values(topics).map((t) => `${t}.dlq`)] }).catch(() => undefined);
    await producer.disconnect();
    await admin.disconnect();
    hook.close();
    rmSync(dir, { recursive: true, force: true });
  }
  printColumns(
    `soak: ${DAYS} days of event time, ${UPGRADES} upgrades + ${TICKETS} tickets a day, embedded store, in ${Math.round((Date.now() - started) / 1000)} s`,
    ['day', 'events', 'RSS MB', 'heap MB', 'open runs', 'held', 'dedupe keys', 'detector mem', 'alert book', 'notif. log', 'state doc B', 'pages'],
    rows,
  );
}

runBench(main);
