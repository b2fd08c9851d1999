import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Producer } from 'kafkajs';
import { buildScenario, produceAll, T0 } from '../support/scenario.ts';
import { ENGINES, ENGINE_NAMES, committedCount, groupLag, kafka, requireServices, waitFor } from '../support/services.ts';
import { processHarness } from '../support/processes.ts';
import { expectRunsExactly, finalRuns } from '../support/runs.ts';

/** Every plan upgrade counts once: good when it completed. */
const SUCCESS_SLO = `
slos:
  - { name: upgrade-success, workflow: plan-upgrade, objective: 99%, window: 30d, indicator: { success-ratio: {} } }
`;

describe.each(ENGINES.map((e) => [ENGINE_NAMES[e], e] as const))('seamwatch killed without a graceful stop, on %s', (_name, engine) => {
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

  // Each test lets go of its store before the next opens one: chdb holds one directory per process.
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  afterAll(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
  });

  async function setUp(prefix: string) {
    const harness = await processHarness(admin, prefix, { slos: SUCCESS_SLO, engine });
    cleanups.push(harness.cleanup);
    return harness;
  }

  it('rebuilds a run that was open at the kill and completes it from steps that arrive after the restart', async () => {
    const { id, topics, groupId, start, settle } = await setUp('open');
    const first = await start();
    const ce = (type: string, eventId: string, c: string, time: number, source = 'crm') => ({
      key: c,
      value: JSON.stringify({ specversion: '1.0', id: eventId, source, type, time: new Date(time).toISOString(), correlationid: c }),
    });
    const webhook = (type: string, eventId: string, c: string, time: number) => ({
      key: c,
      value: JSON.stringify({ id: eventId, type, created: time, data: { object: { metadata: { correlation_id: c } } } }),
    });
    const ids = Array.from({ length: 40 }, (_, i) => `open-${i}`);
    await producer.send({ topic: topics.crm, messages: ids.map((c, i) => ce('subscription.upgraded', `t-${c}`, c, T0 + i)) });
    await producer.send({ topic: topics.billing, messages: ids.map((c, i) => webhook('invoice.updated', `inv-${c}`, c, T0 + i + 1_000)) });
    await waitFor('the first half to be committed', async () => (await groupLag(admin, groupId, Object.values(topics))) === 0);
    await first.kill();

    await producer.send({ topic: topics.billing, messages: ids.map((c, i) => webhook('entitlement.activated', `ent-${c}`, c, T0 + i + 2_000)) });
    await start();
    await waitFor('the second half to be committed', async () => (await groupLag(admin, groupId, Object.values(topics))) === 0);
    const ch = await settle();
    await waitFor('every run completed', async () => {
      const rows = await ch.rows<{ state: string }>(finalRuns(id));
      return rows.length === ids.length && rows.every((r) => r.state === 'completed');
    });
    const rows = await ch.rows<{ events: string; missed: number }>(finalRuns(id));
    expect(rows.map((r) => Number(r.events))).toEqual(ids.map(() => 3));
    expect(rows.every((r) => Number(r.missed) === 0)).toBe(true);
    const [spans] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM ${id}.spans FINAL`);
    expect(Number(spans!.n)).toBe(ids.length * 3);
  });

  it('loses nothing and counts nothing twice when killed mid-stream', async () => {
    const { id, topics, groupId, start, settle } = await setUp('kill');
    const scenario = buildScenario(topics, 8_000, 1_500, 'k');
    const total = [...scenario.messages.values()].reduce((n, list) => n + list.length, 0);
    const all = Object.values(topics);
    const first = await start();
    // Paced (about 4 s for the whole stream), so that the kill lands while part of it is still to come.
    const producing = produceAll(producer, scenario.messages, 500, 50);
    // Kill once part of the stream is committed and part is not.
    const committedAtKill = await waitFor('a committed part of the stream', async () => {
      const done = await committedCount(admin, groupId, all);
      return done > total * 0.1 ? done : undefined;
    }, 60_000, 20);
    await first.kill();
    await producing;
    expect(committedAtKill).toBeLessThan(total);

    await start();
    await waitFor('everything to be committed after the restart', async () => (await groupLag(admin, groupId, all)) === 0, 120_000);
    const ch = await settle();
    await waitFor('every run', async () => (await ch.rows(finalRuns(id))).length === scenario.expectedRuns.size, 60_000);

    await expectRunsExactly(ch, id, scenario);
    // The SLO counts each run once, however often the kill made seamwatch read it.
    const upgrades = [...scenario.expectedRuns].filter(([runId]) => runId.startsWith('plan-upgrade:'));
    const completed = upgrades.filter(([, run]) => run.state === 'completed').length;
    await waitFor('the SLO counts', async () => {
      const [slo] = await ch.rows<{ good: string; total: string }>(`SELECT sum(good) AS good, sum(total) AS total FROM ${id}.slo_minutes FINAL WHERE slo = 'upgrade-success'`);
      return Number(slo?.total) === upgrades.length && Number(slo?.good) === completed;
    }, 30_000).catch(async () => {
      const [slo] = await ch.rows<{ good: string; total: string }>(`SELECT sum(good) AS good, sum(total) AS total FROM ${id}.slo_minutes FINAL WHERE slo = 'upgrade-success'`);
      expect({ good: Number(slo?.good), total: Number(slo?.total) }).toEqual({ good: completed, total: upgrades.length });
    });
    const [letters] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM ${id}.dead_letters FINAL`);
    expect(Number(letters!.n)).toBe(scenario.malformed.length);
  });
});
