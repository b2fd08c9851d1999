import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Message, Producer } from 'kafkajs';
import { billingWebhook, cloudEvent, T0 } from '../support/scenario.ts';
import { groupLag, kafka, requireServices, waitFor } from '../support/services.ts';
import { processHarness } from '../support/processes.ts';
import type { SeamwatchProcess } from '../support/child.ts';

const S = 1_000;
const UPGRADES = 3_000;

/**
 * A backlog read from the beginning: plan upgrades whose triggers are large messages on one
 * topic and whose two steps are small ones on another, so that by bytes the steps' topic is read
 * far ahead of the triggers' in event time. Every step read before its trigger is held, and
 * past pipeline.maxHeldSteps the oldest are let go: their runs never complete and miss their
 * deadlines. With the partitions kept within kafka.maxEventTimeSkew of each other in event time,
 * every run completes and no step is let go.
 */
describe('partitions read from a backlog are kept together in event time, on real Kafka and ClickHouse', () => {
  let admin: Admin;
  let producer: Producer;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    await requireServices();
    admin = kafka().admin();
    await admin.connect();
    producer = kafka().producer();
    await producer.connect();
  });

  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    await producer?.disconnect();
    await admin?.disconnect();
  });

  /** A backlog of UPGRADES plan upgrades: large triggers on the CRM topic, their two small steps on billing. */
  async function backlog(prefix: string, { buffer = '', partitions = 1, billingFirst = false, upgrades = UPGRADES, skew = '30s' } = {}) {
    // The default 4 MB fetches: the first holds every one of the 6 000 steps (cap: 500 held) and
    // a quarter of the triggers, so batches must be cut, not just the partitions paused after them.
    const harness = await processHarness(admin, prefix, {
      partitions,
      pipeline: `{ flushInterval: 200ms, idleAdvanceAfter: 2s, maxHeldSteps: 500${buffer} }`,
      kafka: `  maxEventTimeSkew: ${skew}`,
      billingFirst,
    });
    cleanups.push(harness.cleanup);
    const pad = 'x'.repeat(4_000);
    const triggers: Message[] = [];
    const steps: Message[] = [];
    for (let i = 0; i < upgrades; i++) {
      const c = `al-${i}`;
      const t = T0 + i * S;
      triggers.push(cloudEvent('crm', 'subscription.upgraded', `crm-${c}`, c, t, false, { plan: 'pro', pad }));
      steps.push(billingWebhook('invoice.updated', `evt_inv_${c}`, c, t + 10 * S), billingWebhook('entitlement.activated', `evt_ent_${c}`, c, t + 20 * S));
    }
    for (let i = 0; i < triggers.length; i += 200) await producer.send({ topic: harness.topics.crm, messages: triggers.slice(i, i + 200) });
    for (let i = 0; i < steps.length; i += 1_000) await producer.send({ topic: harness.topics.billing, messages: steps.slice(i, i + 1_000) });
    const storedEvents = async () => Number((await harness.ch.rows<{ n: string }>(`SELECT count() AS n FROM ${harness.id}.events FINAL`))[0]?.n);
    /** Once every message is committed: the events stored, the runs, those complete, and the held steps the processes let go. */
    const outcome = async (...processes: SeamwatchProcess[]) => {
      await waitFor('the backlog to be read and committed', async () => (await groupLag(admin, harness.groupId, harness.all)) === 0, 120_000, 500);
      const [runs] = await harness.ch.rows<{ runs: string; completed: string }>(
        `SELECT count() AS runs, countIf(state = 'completed' AND event_count = 3) AS completed
         FROM (SELECT run_id, argMax(state, version) AS state, argMax(event_count, version) AS event_count FROM ${harness.id}.runs GROUP BY run_id)`,
      );
      let letGo = 0;
      for (const p of processes) {
        const metrics = await (await fetch(`http://127.0.0.1:${p.port}/metrics`)).text();
        letGo += Number(/^seamwatch_stitch_events_total\{outcome="held_evicted"\} (\S+)/m.exec(metrics)?.[1] ?? 0);
      }
      return { events: await storedEvents(), runs: Number(runs?.runs), completed: Number(runs?.completed), letGo };
    };
    return { start: harness.start, storedEvents, outcome };
  }

  const ALL_RIGHT = { events: 3 * UPGRADES, runs: UPGRADES, completed: UPGRADES, letGo: 0 };

  it('lets no held step go and completes every run, though the steps topic is read faster by bytes', async () => {
    const { start, outcome } = await backlog('align');
    const p = await start();
    expect(await outcome(p)).toEqual(ALL_RIGHT);
    // It was the alignment that did it: the steps' partition was paused to wait for the triggers'.
    expect(p.output).toContain('partitions ahead in event time paused until the others catch up');
  });

  it('a skew wider than the held steps allow (a high event rate): kept within a second while the held steps fill half the cap, none let go', async () => {
    // Ten minutes of steps is 1 200 of them, past the 500-step cap; one run a second stands for
    // a stream where 30 s of event time holds more steps than pipeline.maxHeldSteps.
    const { start, outcome } = await backlog('alignheld', { skew: '10m' });
    const p = await start();
    expect(await outcome(p)).toEqual(ALL_RIGHT);
    expect(p.output).toContain('steps held for their triggers fill half of pipeline.maxHeldSteps');
  });

  it('killed with SIGKILL in the middle of an aligned backlog, loses and doubles nothing: the restart reads the parked rest again', async () => {
    // Small flushes and a small buffer (the store holds intake back, parked batches wait for it),
    // so that the backlog takes many flushes and the kill lands between them.
    const { start, storedEvents, outcome } = await backlog('alignkill', { buffer: ', flushRows: 500, maxBufferedRows: 1000' });
    const first = await start();
    await waitFor('part of the backlog stored', async () => (await storedEvents()) >= 600, 60_000, 20);
    await first.kill();
    const atKill = await storedEvents();
    expect(atKill).toBeLessThan(3 * UPGRADES);
    const second = await start();
    expect(await outcome(second)).toEqual(ALL_RIGHT);
  });

  it('a second instance joining in the middle of an aligned backlog (a rebalance): the partitions the first keeps stay aligned from their first batch', async () => {
    // Two partition numbers; the first instance reads both slowly (small buffer), the second joins
    // and takes one. Kafka reads the kept partitions again from their commits, and the alignment,
    // which forgot every partition with the assignment, must count the kept ones before their
    // first batch, or that batch (a whole 4 MB fetch of steps) runs ahead of its triggers. With
    // the billing source listed first, the steps' batch is the first of every fetch.
    const { start, storedEvents, outcome } = await backlog('alignjoin', { buffer: ', flushRows: 500, maxBufferedRows: 1000', partitions: 2, billingFirst: true, upgrades: 4 * UPGRADES });
    const first = await start();
    // The second starts at once: it takes a second or two to join, while the first reads.
    const second = await start();
    await waitFor('the second instance to be given partitions', async () => /partitions assigned/.test(second.output), 60_000, 100);
    // The join landed in the middle of the backlog, so the partitions kept had more to read.
    expect(await storedEvents()).toBeLessThan(12 * UPGRADES);
    expect(await outcome(first, second)).toEqual({ events: 12 * UPGRADES, runs: 4 * UPGRADES, completed: 4 * UPGRADES, letGo: 0 });
    expect(first.output).toMatch(/partitions moved away/);
  });
});
