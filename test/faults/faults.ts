/**
 * The faults of the fault table, each a function that runs seamwatch through one fault on real
 * services and returns its row. `npm run faults` runs them all at full size; the test suite runs
 * some at a smaller size (test/faults/faults.test.ts), with the same code.
 */
import type { PagerDutyContractServer } from '../support/pagerduty-server.ts';
import type { DedicatedService } from './dedicated-services.ts';
import { FaultRun, type FaultRow, type FaultServices } from './fault-run.ts';
import { fuzzMessages, interleave } from './fuzz.ts';
import { waitFor } from '../support/services.ts';

export interface FaultContext {
  /** The shared Kafka and ClickHouse server: never stopped here. */
  shared: FaultServices;
  pagerDuty: PagerDutyContractServer;
  /** A ClickHouse server and a Kafka broker of the table's own, for the faults that stop them. */
  ownClickHouse?: DedicatedService;
  ownKafka?: DedicatedService;
  log: (line: string) => void;
}

/** Sizes: `full` for the command, `small` for the test suite. */
export type FaultSize = 'full' | 'small';

const TICKETS = 12;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withRun(context: FaultContext, run: FaultRun, body: (run: FaultRun) => Promise<void>): Promise<FaultRow> {
  const started = Date.now();
  context.log(`${run.name}: ${run.totalMessages} messages…`);
  try {
    await run.setUp();
    await body(run);
    const row = await run.measure();
    context.log(`${run.name}: done in ${Math.round((Date.now() - started) / 1000)} s`);
    return row;
  } catch (error) {
    run.failures.push(`the fault run failed: ${String(error)}`);
    return run.measure().catch(() => ({ ...emptyRow(run), failures: run.failures }));
  } finally {
    await run.cleanup().catch(() => undefined);
  }
}

function emptyRow(run: FaultRun): FaultRow {
  return { fault: run.name, eventsIn: 0, stored: 0, deadLettered: 0, deadLetteredExpected: 0, doubleCounted: 0, runsWrong: 0, pagesExpected: 0, pagesSent: 0, doublePages: 0, resolvesExpected: 0, resolves: 0, peakRssMb: 0, failures: [], notes: [] };
}

/** SIGKILL while 10–20k events/s arrive, then a restart on the same store and group. */
export function sigkill(context: FaultContext, size: FaultSize): Promise<FaultRow> {
  const run = new FaultRun('SIGKILL mid-stream', context.shared, context.pagerDuty, { upgrades: size === 'full' ? 40_000 : 8_000, tickets: TICKETS });
  return withRun(context, run, async () => {
    const first = await run.start();
    let producingDone = false;
    const producing = run.produce(run.messages, 15_000, 5_000).finally(() => (producingDone = true));
    // Half-way through the stream, whatever has been committed by then.
    await waitFor('half the stream produced', async () => run.produced >= run.totalMessages / 2, 300_000, 20);
    const committed = await run.committed();
    await first.kill();
    run.notes.push(`killed with ${run.produced} of ${run.totalMessages} messages produced and ${committed} committed, ${producingDone ? 'after' : 'while'} producing`);
    const rate = await producing;
    run.notes.push(`produced at ${rate} messages/s (15k asked; the producer is the limit on a loaded machine)`);
    await run.start();
    await run.pageAndResolve();
  });
}

/** The store's ClickHouse server stopped for 60 s while events keep coming. */
export function clickhouseStopped(context: FaultContext, size: FaultSize): Promise<FaultRow> {
  const ch = context.ownClickHouse;
  if (!ch) throw new Error('the ClickHouse fault needs a ClickHouse server of its own');
  const run = new FaultRun('ClickHouse stopped 60 s', { ...context.shared, clickhouseUrl: ch.address }, context.pagerDuty, {
    upgrades: size === 'full' ? 25_000 : 5_000,
    tickets: TICKETS,
    // A buffer the outage overflows, so that the consumer must pause (the default holds 200k rows).
    pipeline: '{ flushInterval: 200ms, idleAdvanceAfter: 1h, maxBufferedRows: 20000 }',
  });
  return withRun(context, run, async () => {
    const p = await run.start();
    // Load across the whole outage: about 80 s of production.
    const producing = run.produce(run.messages, Math.ceil(run.totalMessages / 80), 500);
    await run.waitCommitted(0.1);
    await ch.stop();
    const down = Date.now();
    await sleep(60_000);
    const backpressure = await metric(p.port, 'seamwatch_backpressure_waits_total');
    await ch.start();
    run.notes.push(`ClickHouse down ${Math.round((Date.now() - down) / 1000)} s; back-pressure waits meanwhile: ${backpressure}`);
    await producing;
    await run.pageAndResolve();
  });
}

/** The Kafka broker stopped and started again while events are produced and consumed. */
export function brokerRestarted(context: FaultContext, size: FaultSize): Promise<FaultRow> {
  const kafka = context.ownKafka;
  if (!kafka) throw new Error('the broker fault needs a Kafka broker of its own');
  const run = new FaultRun('Kafka broker restarted', { ...context.shared, brokers: [kafka.address] }, context.pagerDuty, { upgrades: size === 'full' ? 20_000 : 5_000, tickets: TICKETS });
  return withRun(context, run, async () => {
    await run.start();
    const producing = run.produce(run.messages, Math.ceil(run.totalMessages / 40), 500);
    await run.waitCommitted(0.2);
    const stopped = Date.now();
    await kafka.stop();
    await kafka.start();
    run.notes.push(`broker away ${Math.round((Date.now() - stopped) / 1000)} s (graceful stop, then start)`);
    await producing;
    await run.pageAndResolve();
  });
}

/** Fuzzed messages interleaved with the valid stream: each dead-lettered, no valid event lost. */
export function fuzzed(context: FaultContext, size: FaultSize): Promise<FaultRow> {
  const count = size === 'full' ? 10_000 : 2_000;
  const run = new FaultRun(`${count / 1000}k fuzzed messages`, context.shared, context.pagerDuty, {
    upgrades: size === 'full' ? 10_000 : 3_000,
    tickets: TICKETS,
    messages: (scenario, topics) => interleave(scenario.messages, fuzzMessages(topics, count)),
    extraDeadLetters: count,
  });
  return withRun(context, run, async () => {
    const p = await run.start();
    await run.produce(run.messages, 10_000, 1_000);
    await run.pageAndResolve();
    if (p.child.exitCode !== null || p.child.signalCode !== null) run.failures.push(`seamwatch died (exit ${p.child.exitCode ?? p.child.signalCode})`);
    else run.notes.push('the process stayed up throughout');
  });
}

/** PagerDuty answering slowly, 429, 500, not at all (timeout) and hanging up; then a 400. */
export function pagerDutyFaults(context: FaultContext, size: FaultSize): Promise<FaultRow> {
  const pd = context.pagerDuty;
  const run = new FaultRun('PagerDuty slow/429/500/timeout', context.shared, pd, { upgrades: size === 'full' ? 5_000 : 2_000, tickets: TICKETS });
  return withRun(context, run, async () => {
    await run.start();
    pd.script([{ delayMs: 3_000 }, { status: 429, retryAfter: '1' }, { status: 500 }, { delayMs: 11_000 }, { hangUp: true }, { status: 503 }]);
    const before = pd.requests.length;
    await run.produce(run.messages, 10_000, 1_000);
    // The first resolve is answered 400 (a bad event to PagerDuty): recorded, never retried.
    run.resolvesExpected = run.stuckTickets.length - 1;
    await run.pageAndResolve(async () => {
      // Once the triggers' retries are over (a timed-out one is retried after the 10 s timeout).
      await waitFor('PagerDuty quiet for 12 s', async () => Date.now() - (pd.requests.at(-1)?.at ?? 0) > 12_000, 120_000, 500);
      pd.script([{ status: 400, errors: ['Event object is invalid'] }]);
    });
    await sleep(3_000);
    const ours = pd.requests.slice(before);
    const rejected = ours.filter((r) => r.status === 400);
    const retried = rejected.filter((r) => ours.some((o) => o.at > r.at && o.raw === r.raw)).length;
    const answers = (status: number) => ours.filter((r) => r.scripted && r.status === status).length;
    run.notes.push(
      `answers: ${answers(202)} slow or timed out, ${answers(429)}×429, ${answers(500) + answers(503)}×5xx, ${answers(0)} hang-up, ${rejected.length}×400; ${ours.length} requests in all`,
    );
    if (rejected.length !== 1) run.failures.push(`${rejected.length} requests answered 400, 1 expected`);
    if (retried > 0) run.failures.push(`a request answered 400 was sent again`);
    else run.notes.push('the resolve answered 400 was sent once and not retried (resolves expected: stuck tickets − 1)');
  });
}

/** Two instances in one group while events flow: one joins, one leaves, one comes back. */
export function twoInstances(context: FaultContext, size: FaultSize): Promise<FaultRow> {
  const run = new FaultRun('two instances, partitions moving', context.shared, context.pagerDuty, { upgrades: size === 'full' ? 20_000 : 5_000, tickets: TICKETS });
  return withRun(context, run, async () => {
    const a = await run.start();
    const producing = run.produce(run.messages, Math.ceil(run.totalMessages / 30), 1_000);
    await run.waitCommitted(0.15);
    await run.start();
    await run.waitCommitted(0.45);
    await a.stop();
    await run.waitCommitted(0.6);
    await run.start();
    await producing;
    run.notes.push('B joined at 15% committed, A stopped at 45%, A again at 60%: three rebalances under load');
    await run.pageAndResolve();
  });
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text().catch(() => '');
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}
