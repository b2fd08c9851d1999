import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Message, Producer } from 'kafkajs';
import { billingWebhook, cloudEvent, T0 } from '../support/scenario.ts';
import { groupLag, kafka, requireServices, waitFor } from '../support/services.ts';
import { processHarness } from '../support/processes.ts';

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
  let cleanup: (() => Promise<unknown>) | undefined;

  beforeAll(async () => {
    await requireServices();
    admin = kafka().admin();
    await admin.connect();
    producer = kafka().producer();
    await producer.connect();
  });

  afterAll(async () => {
    await cleanup?.().catch(() => undefined);
    await producer?.disconnect();
    await admin?.disconnect();
  });

  it('lets no held step go and completes every run, though the steps topic is read faster by bytes', async () => {
    // The default 4 MB fetches: the first holds every one of the 6 000 steps (cap: 500 held) and
    // a quarter of the triggers, so batches must be cut, not just the partitions paused after them.
    const harness = await processHarness(admin, 'align', {
      partitions: 1,
      pipeline: '{ flushInterval: 200ms, idleAdvanceAfter: 2s, maxHeldSteps: 500 }',
      kafka: '  maxEventTimeSkew: 30s',
    });
    cleanup = harness.cleanup;
    const { topics, all, ch, id, groupId, start } = harness;
    const pad = 'x'.repeat(4_000);
    const triggers: Message[] = [];
    const steps: Message[] = [];
    for (let i = 0; i < UPGRADES; i++) {
      const c = `al-${i}`;
      const t = T0 + i * S;
      triggers.push(cloudEvent('crm', 'subscription.upgraded', `crm-${c}`, c, t, false, { plan: 'pro', pad }));
      steps.push(billingWebhook('invoice.updated', `evt_inv_${c}`, c, t + 10 * S), billingWebhook('entitlement.activated', `evt_ent_${c}`, c, t + 20 * S));
    }
    for (let i = 0; i < triggers.length; i += 200) await producer.send({ topic: topics.crm, messages: triggers.slice(i, i + 200) });
    for (let i = 0; i < steps.length; i += 1_000) await producer.send({ topic: topics.billing, messages: steps.slice(i, i + 1_000) });

    const p = await start();
    await waitFor('the backlog to be read and committed', async () => (await groupLag(admin, groupId, all)) === 0, 120_000, 500);
    const [runs] = await ch.rows<{ runs: string; completed: string; events: string }>(
      `SELECT count() AS runs, countIf(state = 'completed' AND event_count = 3) AS completed, (SELECT count() FROM ${id}.events FINAL) AS events
       FROM (SELECT run_id, argMax(state, version) AS state, argMax(event_count, version) AS event_count FROM ${id}.runs GROUP BY run_id)`,
    );
    const metrics = await (await fetch(`http://127.0.0.1:${p.port}/metrics`)).text();
    const letGo = Number(/^seamwatch_stitch_events_total\{outcome="held_evicted"\} (\S+)/m.exec(metrics)?.[1] ?? 0);
    expect({ events: Number(runs?.events), runs: Number(runs?.runs), completed: Number(runs?.completed), letGo }).toEqual({
      events: 3 * UPGRADES,
      runs: UPGRADES,
      completed: UPGRADES,
      letGo: 0,
    });
    // It was the alignment that did it: the steps' partition was paused to wait for the triggers'.
    expect(p.output).toContain('partitions ahead in event time paused until the others catch up');
  });
});
