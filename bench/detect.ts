/**
 * npm run bench:detect — detection latency under load: from a faulty event entering Kafka to
 * the PagerDuty request arriving at the (local contract) PagerDuty server.
 *
 * 1. Fresh topics and ClickHouse database; a PagerDuty contract server; seamwatch as a separate
 *    process with a duplicate-invoice detector (duplicateEffects on billing invoice.created keyed
 *    by account_id + billing_period) and routes paging billing-platform (group_wait 0s,
 *    group_interval BENCH_GROUP_INTERVAL, default 1s).
 * 2. Background load at BENCH_RATE events/s (default 10000), event time = wall time: plan-upgrade
 *    triggers and steps, and invoice.created for accounts never invoiced before.
 * 3. Faults: every ~200 ms, for BENCH_SECONDS (default 30), a second invoice.created for an
 *    account invoiced a second or more earlier — a real duplicate. Each is timed from just
 *    before its produce call to the arrival of the PagerDuty request naming its account.
 * 4. Baseline in the same run: a plain kafkajs consumer on the billing topic, timed from the
 *    same produce instant to its eachBatch seeing the message (faults, and all billing events).
 *
 * Figures are printed side by side; this is a benchmark, not a test: it asserts nothing.
 */
import { Kafka, logLevel, type Message, type Producer } from 'kafkajs';
import { cpuSeconds, printTable, runBench } from './report.ts';
import { PagerDutyContractServer } from '../test/support/pagerduty-server.ts';
import { cloudEvent, scenarioConfig, type ScenarioTopics } from '../test/support/scenario.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, createTopics, store, unique, waitFor } from '../test/support/services.ts';
import { SeamwatchProcess, freePort, writeConfig } from '../test/support/child.ts';

const rate = Number(process.env['BENCH_RATE'] ?? 10_000);
const seconds = Number(process.env['BENCH_SECONDS'] ?? 30);
/**
 * Every duplicate-invoice alert carries the same labels (alertname, detector, severity, team: the
 * business key is an annotation), so they all share one aggregation group whatever group_by says:
 * the first is sent after group_wait, later ones at the next group_interval. The PagerDuty
 * receiver triggers only the alerts of a flush that are new to it, so each fault is one request.
 */
const groupInterval = process.env['BENCH_GROUP_INTERVAL'] ?? '1s';
const FAULT_EVERY_MS = 200;
/** Background load before the first fault (seamwatch settles) and after the last (event time moves past it). */
const WARMUP_MS = 5_000;
const TAIL_MS = 5_000;
/** How long after the load stops a page may still arrive and be counted. */
const GRACE_MS = 15_000;
const TICK_MS = 20;
const PERIOD = '2026-11';
const BILLING_KEY = 'b'.repeat(32);
const KEY_ENV = 'SEAMWATCH_PD_KEY_BILLING';

const kafka = new Kafka({ clientId: 'seamwatch-bench', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
const log = (text: string) => process.stderr.write(`${text}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const detection = (pagerDutyUrl: string) => `
detectors:
  duplicateEffects:
    - name: duplicate-invoice
      owner: billing-platform
      severity: critical
      match: { source: billing, type: invoice.created }
      businessKey: [account_id, billing_period]
      window: 35d
      maxKeys: 2000000
alerting: { keepFiringFor: 0s }
receivers:
  - name: billing-pager
    # Every duplicate is timed as a page of its own: no storm incident for them.
    pagerduty: { routingKeyEnv: ${KEY_ENV}, url: "${pagerDutyUrl}", storm: false }
routes:
  receiver: billing-pager
  group_by: [team, detector]
  group_wait: 0s
  group_interval: ${groupInterval}
  repeat_interval: 24h
  routes:
    - matchers: ['team="billing-platform"']
      receiver: billing-pager
`;

/** A billing webhook body (mapped source); `sent` rides in a header for the baseline consumer. */
function invoiceCreated(id: string, account: string, time: number, sent: number): Message {
  return {
    key: account,
    value: JSON.stringify({ id, object: 'event', type: 'invoice.created', created: time, data: { object: { customer: `cus_${account}`, account_id: account, billing_period: PERIOD, metadata: { correlation_id: `bill-${id}` } } } }),
    headers: { 'bench-sent': String(sent) },
  };
}

function billingStep(type: string, id: string, c: string, time: number, sent: number): Message {
  return {
    key: c,
    value: JSON.stringify({ id, object: 'event', type, created: time, data: { object: { customer: `cus_${c}`, metadata: { correlation_id: c } } } }),
    headers: { 'bench-sent': String(sent) },
  };
}

function quantiles(values: number[]): { p50: number; p99: number; max: number; n: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  return { p50: q(0.5), p99: q(0.99), max: sorted.at(-1) ?? NaN, n: sorted.length };
}

const fmt = (s: { p50: number; p99: number; max: number }) => `p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms, max ${s.max.toFixed(0)} ms`;

async function main(): Promise<void> {
  const id = unique('benchdetect');
  const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  const all = Object.values(topics);
  const admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, all, 4);
  const pagerDuty = new PagerDutyContractServer();
  await pagerDuty.start();

  // Background and faults on separate producers: a fault never queues behind a background batch.
  const producer = kafka.producer();
  const faultProducer = kafka.producer();
  await producer.connect();
  await faultProducer.connect();

  // Baseline: a plain kafkajs consumer of the billing topic, in a group of its own.
  const faultSent = new Map<string, number>();
  const baselineFault = new Map<string, number>();
  const baselineAll: number[] = [];
  const consumer = kafka.consumer({ groupId: unique('bench-detect-raw'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.billing], fromBeginning: true });
  let joined: () => void = () => undefined;
  const consumerJoined = new Promise<void>((resolve) => (joined = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const m of batch.messages) {
        const sent = Number(m.headers?.['bench-sent']?.toString());
        if (Number.isFinite(sent)) baselineAll.push(now - sent);
        const key = m.key?.toString() ?? '';
        if (m.headers?.['bench-fault'] && !baselineFault.has(key)) baselineFault.set(key, now);
      }
    },
  });

  log('starting seamwatch (child process)…');
  process.env[KEY_ENV] = BILLING_KEY;
  const configFile = writeConfig(
    scenarioConfig(topics, {
      database: id,
      groupId: `${id}-group`,
      brokers: KAFKA_BROKERS,
      clickhouseUrl: CLICKHOUSE_URL,
      pipeline: '{ flushInterval: 1s, flushRows: 50000, maxBufferedRows: 300000, idleAdvanceAfter: 5s }',
      slos: detection(pagerDuty.url),
    }),
  );
  const sw = new SeamwatchProcess(configFile, await freePort());
  await sw.ready();
  await Promise.race([consumerJoined, sleep(30_000)]);
  const cpuBefore = cpuSeconds(sw.child.pid);

  // Background load: a fixed rotation of four kinds, every event's time = now.
  // Upgrade i's invoice.updated follows its trigger ~1 s later, its entitlement ~2 s later.
  const lagUpgrades = Math.max(1, Math.round(rate / 4));
  let upgrade = 0;
  let invoiced = 0;
  let background = 0;
  let seq = 0;
  const invoicedAt: number[] = []; // wall time account i was first invoiced
  const nextMessages = (n: number, now: number) => {
    const crm: Message[] = [];
    const billing: Message[] = [];
    const invoice = () => {
      const account = `acct-${invoiced}`;
      billing.push(invoiceCreated(`evt_inv_${invoiced}`, account, now, now));
      invoicedAt.push(now);
      invoiced++;
    };
    for (let k = 0; k < n; k++, seq++) {
      switch (seq % 4) {
        case 0: {
          const c = `up-${upgrade}`;
          crm.push(cloudEvent('crm', 'subscription.upgraded', `crm-${c}`, c, now, false, { plan: 'pro' }));
          upgrade++;
          break;
        }
        case 1: {
          const i = upgrade - lagUpgrades;
          if (i >= 0) billing.push(billingStep('invoice.updated', `evt_upd_${i}`, `up-${i}`, now, now));
          else invoice();
          break;
        }
        case 2: {
          const i = upgrade - 2 * lagUpgrades;
          if (i >= 0) billing.push(billingStep('entitlement.activated', `evt_ent_${i}`, `up-${i}`, now, now));
          else invoice();
          break;
        }
        default:
          invoice();
      }
    }
    return [
      { topic: topics.crm, messages: crm },
      { topic: topics.billing, messages: billing },
    ].filter((t) => t.messages.length > 0);
  };

  const loadMs = WARMUP_MS + seconds * 1_000 + TAIL_MS;
  log(`background load: ${rate} events/s for ${(loadMs / 1000).toFixed(0)} s (${seconds} s of faults every ${FAULT_EVERY_MS} ms)…`);
  const loadStart = Date.now();
  const load = (async (p: Producer) => {
    // Two sends in flight at most; each takes whatever the schedule says is due.
    const inflight = new Set<Promise<unknown>>();
    while (Date.now() - loadStart < loadMs) {
      const now = Date.now();
      const due = Math.floor(((now - loadStart) * rate) / 1000) - background;
      if (due > 0 && inflight.size < 2) {
        const n = Math.min(due, Math.max(50, Math.ceil(rate / 20)));
        background += n;
        const send: Promise<unknown> = p.sendBatch({ topicMessages: nextMessages(n, now) }).finally(() => inflight.delete(send));
        inflight.add(send);
        continue;
      }
      if (inflight.size >= 2) await Promise.race(inflight);
      else await sleep(TICK_MS);
    }
    await Promise.all(inflight);
  })(producer);
  const loadElapsed = load.then(() => (Date.now() - loadStart) / 1000);

  // Faults: a second invoice for an account invoiced ≥ 1 s ago, one every ~200 ms.
  await sleep(WARMUP_MS);
  const faultsUntil = Date.now() + seconds * 1_000;
  const picked = new Set<number>();
  const ackMs: number[] = [];
  while (Date.now() < faultsUntil) {
    const started = Date.now();
    // An account invoiced at least a second ago, not duplicated before, anywhere in the run so far.
    let eligible = invoicedAt.length;
    while (eligible > 0 && invoicedAt[eligible - 1]! > started - 1_000) eligible--;
    let pick = -1;
    for (let tries = 0; tries < 20 && eligible > 0 && pick < 0; tries++) {
      const i = Math.floor(Math.random() * eligible);
      if (!picked.has(i)) pick = i;
    }
    if (pick >= 0) {
      picked.add(pick);
      const account = `acct-${pick}`;
      const message = invoiceCreated(`evt_dup_${pick}`, account, Date.now(), Date.now());
      message.headers = { ...message.headers, 'bench-fault': '1' };
      const at = Date.now();
      faultSent.set(account, at);
      await faultProducer.send({ topic: topics.billing, messages: [message] });
      ackMs.push(Date.now() - at);
    }
    await sleep(Math.max(0, FAULT_EVERY_MS - (Date.now() - started)));
  }
  const loadSeconds = await loadElapsed;
  log(`  ${background} background events in ${loadSeconds.toFixed(1)} s; ${faultSent.size} faults; waiting for pages…`);

  const triggersFor = () => {
    const byAccount = new Map<string, { at: number; dedupKey: string }[]>();
    for (const r of pagerDuty.accepted()) {
      const body = r.body as { event_action?: string; dedup_key?: string; payload?: { custom_details?: { business_key?: string } } };
      if (body.event_action !== 'trigger') continue;
      const account = /account_id=(acct-\d+)/.exec(body.payload?.custom_details?.business_key ?? '')?.[1];
      if (!account) continue;
      const list = byAccount.get(account) ?? [];
      list.push({ at: r.at, dedupKey: body.dedup_key ?? '' });
      byAccount.set(account, list);
    }
    return byAccount;
  };
  await waitFor('a page per fault', async () => [...faultSent.keys()].every((a) => triggersFor().has(a)), GRACE_MS, 200).catch(() => undefined);
  // A second trigger (a repeat, a retry gone wrong) gets a chance to show up before counting.
  await sleep(2_000);
  const cpu = cpuSeconds(sw.child.pid) - cpuBefore;

  const pages = triggersFor();
  const latencies: number[] = [];
  let once = 0;
  let requests = 0;
  let maxRequests = 0;
  for (const [account, sent] of faultSent) {
    const got = pages.get(account);
    if (!got) continue;
    latencies.push(Math.min(...got.map((g) => g.at)) - sent);
    requests += got.length;
    maxRequests = Math.max(maxRequests, got.length);
    // Paged exactly once: one dedup key, and PagerDuty opened exactly one alert for it.
    const keys = new Set(got.map((g) => g.dedupKey));
    if (keys.size === 1 && pagerDuty.incident([...keys][0]!)?.alertsOpened === 1) once++;
  }
  const firstFault = latencies[0];
  const paged = latencies.length;
  const repeated = [...faultSent.keys()].find((a) => (pages.get(a)?.length ?? 0) > 1);
  if (repeated) {
    const got = pages.get(repeated)!;
    log(`  e.g. ${repeated}: ${got.length} trigger requests, ${new Set(got.map((g) => g.dedupKey)).size} dedup_key(s), at +${got.map((g) => g.at - faultSent.get(repeated)!).join(', +')} ms`);
  }
  const unexpected = [...pages.keys()].filter((a) => !faultSent.has(a)).length;
  const base = [...faultSent].filter(([a]) => baselineFault.has(a)).map(([a, sent]) => baselineFault.get(a)! - sent);
  const nonAccepted = pagerDuty.requests.filter((r) => r.status !== 202).length;

  await sw.stop();
  await consumer.disconnect();
  await producer.disconnect();
  await faultProducer.disconnect();
  await pagerDuty.close();
  const ch = store(id);
  await ch.command(`DROP DATABASE IF EXISTS ${id}`);
  await ch.shutdown();
  await admin.deleteTopics({ topics: [...all, ...all.map((t) => `${t}.dlq`)] }).catch(() => undefined);
  await admin.disconnect();

  const detect = quantiles(latencies);
  const baseFaults = quantiles(base);
  const baseAll = quantiles(baselineAll);
  const ack = quantiles(ackMs);
  const achieved = background / loadSeconds;
  const rows: [string, string][] = [
    ['background events sent', `${background} in ${loadSeconds.toFixed(1)} s`],
    ['background rate achieved / asked', `${achieved.toFixed(0)} / ${rate} events/s${achieved < rate * 0.95 ? '  (target NOT reached)' : ''}`],
    ['faults sent (duplicate invoices)', `${faultSent.size} over ${seconds} s`],
    ['faults paged exactly once (one PD alert)', `${once} / ${faultSent.size}  (never paged: ${faultSent.size - paged})`],
    ['trigger requests per paged fault', `mean ${(requests / Math.max(1, paged)).toFixed(1)}, max ${maxRequests}`],
    ['pages for non-faults / non-202 answers', `${unexpected} / ${nonAccepted}`],
    ['fault → PagerDuty request (seamwatch)', `${fmt(detect)}  (n=${detect.n})`],
    ['  first fault alone (group_wait 0s path)', `${firstFault?.toFixed(0) ?? 'n/a'} ms`],
    ['fault → consumed (plain kafkajs, baseline)', `${fmt(baseFaults)}  (n=${baseFaults.n})`],
    ['billing event → consumed (baseline, all)', `${fmt(baseAll)}  (n=${baseAll.n})`],
    ['fault produce call → ack', `${fmt(ack)}`],
    ['seamwatch CPU s during the run', `${cpu.toFixed(1)} (${(cpu / (loadSeconds + 1)).toFixed(2)} cores over the load)`],
  ];
  printTable(`seamwatch detection latency benchmark (BENCH_RATE=${rate}, BENCH_SECONDS=${seconds})`, rows);
}

runBench(main);
