/**
 * Two seamwatch processes in one consumer group on the real broker: partitions move from one to
 * the other under load, and every problem is still triggered once and resolved once, by
 * whichever instance owns it by then.
 */
import { describe, expect, it } from 'vitest';
import { kafkaSuite } from '../support/suite.ts';
import type { Message } from 'kafkajs';
import { PagerDutyContractServer } from '../support/pagerduty-server.ts';
import { processHarness } from '../support/processes.ts';
import { cloudEvent, T0 } from '../support/scenario.ts';
import { heartbeats, webhook } from '../support/alert-scenario.ts';
import { alertsOf, pagerRouting } from '../support/pager.ts';
import { groupLag, waitFor } from '../support/services.ts';
import type { SeamwatchProcess } from '../support/child.ts';

const M = 60_000;
const H = 60 * M;
const KEY = 'r'.repeat(32);
const TICKETS = Array.from({ length: 12 }, (_, i) => `tk-${i}`);


describe('two instances in one consumer group', () => {
  const pagerDuty = new PagerDutyContractServer();
  const suite = kafkaSuite({ start: () => pagerDuty.start(), stop: () => pagerDuty.close() });
  const { cleanups } = suite;

  const stuckAlerts = async (p: SeamwatchProcess) => (await alertsOf(p)).filter((a) => a.labels['detector'] === 'stuck-ticket');
  const actions = (fingerprint: string) =>
    pagerDuty
      .accepted()
      .map((r) => r.body as { dedup_key: string; event_action: string; routing_key: string })
      .filter((b) => b.routing_key === KEY && b.dedup_key === fingerprint)
      .map((b) => b.event_action);

  it('a stuck ticket paged by one instance is resolved by the other after its partition moved: one trigger, one resolve', async () => {
    // A dozen tickets stuck at once would be one storm incident by default; this test follows each
    // alert's own trigger and resolve across the move, so every ticket is paged on its own.
    const harness = await processHarness(suite.admin, 'rb', { slos: pagerRouting(pagerDuty.url, { groupWait: '100ms', groupInterval: '300ms' }, { storm: false }), env: { SEAMWATCH_PD_KEY: KEY } });
    cleanups.push(harness.cleanup);
    const { topics, all, groupId, start } = harness;
    const send = async (byTopic: Map<string, Message[]>) => {
      for (const [topic, messages] of byTopic) await suite.producer.send({ topic, messages });
    };
    const committed = () => waitFor('everything produced to be stored and committed', async () => (await groupLag(suite.admin, groupId, all)) === 0, 60_000);

    // Instance A alone: a dozen tickets opened, none moves for five hours — all stuck, all paged.
    const a = await start();
    await send(new Map([[topics.ticketing, TICKETS.map((t) => cloudEvent('ticketing', 'ticket.opened', `${t}-open`, t, T0, false))]]));
    await send(heartbeats(topics, T0 + 5 * H));
    await waitFor('every ticket stuck and paged', async () => pagerDuty.accepted().filter((r) => (r.body as { routing_key: string }).routing_key === KEY).length === TICKETS.length, 30_000);
    const paged = (await stuckAlerts(a)).filter((x) => x.state === 'firing');
    expect(paged).toHaveLength(TICKETS.length);

    // Instance B joins while upgrades keep arriving: the group rebalances under load.
    const load = (async () => {
      for (let batch = 0; batch < 20; batch++) {
        const ids = Array.from({ length: 200 }, (_, i) => `load-${batch}-${i}`);
        await send(
          new Map([
            [topics.crm, ids.map((c, i) => cloudEvent('crm', 'subscription.upgraded', `crm-${c}`, c, T0 + 5 * H + i, false))],
            [topics.billing, ids.map((c, i) => webhook('invoice.updated', `inv-${c}`, c, T0 + 5 * H + i + 1_000))],
          ]),
        );
      }
    })();
    const b = await start();
    await load;
    await committed();
    const onB = await waitFor('some paged tickets to be owned by B', async () => {
      const alerts = (await stuckAlerts(b)).filter((x) => x.state === 'firing');
      return alerts.length > 0 && alerts.length < TICKETS.length ? alerts : undefined;
    }, 30_000);
    // Each alert is owned by exactly one instance: A let go of what B took over.
    await waitFor('A to let go of the moved alerts', async () => {
      const onA = new Set((await stuckAlerts(a)).map((x) => x.fingerprint));
      return onB.every((x) => !onA.has(x.fingerprint)) && onA.size + onB.length === TICKETS.length;
    }, 10_000);

    // Every ticket moves on: the problems are over, wherever their partition is now.
    await send(new Map([[topics.ticketing, TICKETS.map((t) => cloudEvent('ticketing', 'ticket.resolved', `${t}-res`, t, T0 + 5 * H + M, false))]]));
    await committed();
    await waitFor('every ticket resolved on PagerDuty', async () => paged.every((x) => actions(x.fingerprint).includes('resolve')), 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    for (const alert of paged) expect(actions(alert.fingerprint)).toEqual(['trigger', 'resolve']);
    // Neither instance still believes in a problem that is over.
    for (const p of [a, b]) expect((await stuckAlerts(p)).filter((x) => x.state === 'firing')).toEqual([]);

    // What is saved agrees: one instance started on the same group after both are gone sees every
    // ticket resolved and pages nothing.
    await a.kill();
    await b.kill();
    const c = await start();
    await waitFor('every alert restored', async () => (await stuckAlerts(c)).length === TICKETS.length, 30_000);
    expect((await stuckAlerts(c)).filter((x) => x.state !== 'resolved')).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    for (const alert of paged) expect(actions(alert.fingerprint)).toEqual(['trigger', 'resolve']);
  });

  /**
   * Two instances from the start, each with half of the partitions; sixteen tickets stuck at once
   * are one storm incident. Then A's share is over while B's tickets are still stuck: the shared
   * incident must stay open. Returns what the two endings go on from.
   */
  async function stormOverHalf(prefix: string) {
    const harness = await processHarness(suite.admin, prefix, { slos: pagerRouting(pagerDuty.url, { groupWait: '100ms', groupInterval: '300ms' }, { storm: { threshold: 2 } }), env: { SEAMWATCH_PD_KEY: KEY } });
    cleanups.push(harness.cleanup);
    const { topics, all, groupId, start } = harness;
    const send = async (byTopic: Map<string, Message[]>) => {
      for (const [topic, messages] of byTopic) await suite.producer.send({ topic, messages });
    };
    const committed = () => waitFor('everything produced to be stored and committed', async () => (await groupLag(suite.admin, groupId, all)) === 0, 60_000);
    const tickets = Array.from({ length: 16 }, (_, i) => `${prefix}-${i}`);
    // The storm's key is the same in every test of the file (receiver, group, bucket): only this one's events count.
    const since = pagerDuty.accepted().length;
    const storm = () =>
      pagerDuty
        .accepted()
        .slice(since)
        .map((r) => r.body as { dedup_key: string; event_action: string; routing_key: string })
        .filter((b) => b.routing_key === KEY && b.dedup_key.startsWith('storm-'));
    const resolves = () => storm().filter((e) => e.event_action === 'resolve');
    const firingOn = async (p: SeamwatchProcess) => (await stuckAlerts(p)).filter((x) => x.state === 'firing' && tickets.includes(x.annotations['correlation_id']!));
    const moveOn = (alerts: readonly { annotations: Record<string, string> }[]) =>
      send(new Map([[topics.ticketing, alerts.map((x) => x.annotations['correlation_id']!).map((t) => cloudEvent('ticketing', 'ticket.resolved', `${t}-res`, t, T0 + 5 * H + M, false))]]));

    const a = await start();
    const b = await start();
    await send(new Map([[topics.ticketing, tickets.map((t) => cloudEvent('ticketing', 'ticket.opened', `${t}-open`, t, T0, false))]]));
    await send(heartbeats(topics, T0 + 5 * H));
    await committed();
    const [onA, onB] = await waitFor('each instance to have its share of stuck tickets', async () => {
      const shares = await Promise.all([firingOn(a), firingOn(b)]);
      return shares[0].length >= 2 && shares[1].length >= 2 && shares[0].length + shares[1].length === tickets.length ? shares : undefined;
    }, 30_000);
    await waitFor('the storm incident', async () => storm().length > 0, 30_000);
    const keys = new Set(storm().map((e) => e.dedup_key));
    expect(keys.size).toBe(1);
    const key = [...keys][0]!;

    await moveOn(onA);
    await committed();
    await waitFor("A's share to resolve", async () => (await firingOn(a)).length === 0, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(resolves()).toEqual([]);
    expect(pagerDuty.incident(key)).toMatchObject({ state: 'triggered' });
    expect((await firingOn(b)).length).toBe(onB.length);
    return { a, b, onB, key, storm, resolves, firingOn, moveOn };
  }

  it('a storm both instances share is not resolved while either still has alerts under it, and is once one instance holds them all', async () => {
    const { a, b, onB, key, resolves, firingOn, moveOn } = await stormOverHalf('rbs');
    // B leaves; A holds every partition and B's alerts now: when they are over, A resolves the storm, once.
    await b.stop();
    await waitFor("B's alerts to be A's", async () => (await firingOn(a)).length === onB.length, 60_000);
    await moveOn(onB);
    await waitFor('the storm to resolve', async () => resolves().length > 0, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(resolves()).toHaveLength(1);
    expect(pagerDuty.incident(key)).toMatchObject({ state: 'resolved' });
  });

  it('a storm both instances share is resolved once both shares are over, while both still run (each reads the other\'s saved alert state)', async () => {
    const { a, b, onB, key, storm, resolves, firingOn, moveOn } = await stormOverHalf('rbc');
    // B's share is over too, and neither instance holds every partition.
    await moveOn(onB);
    await waitFor("B's share to resolve", async () => (await firingOn(b)).length === 0, 30_000);
    await waitFor('the storm to resolve', async () => resolves().length > 0, 30_000);
    expect(pagerDuty.incident(key)).toMatchObject({ state: 'resolved' });
    const triggers = () => storm().filter((e) => e.event_action === 'trigger').length;
    const triggered = triggers();
    // Both instances had it open: each may send its resolve (PagerDuty takes the second as a no-op); no trigger comes after.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(resolves().length).toBeLessThanOrEqual(2);
    expect(triggers()).toBe(triggered);
    expect(pagerDuty.incident(key)).toMatchObject({ state: 'resolved' });
    expect((await firingOn(a)).length + (await firingOn(b)).length).toBe(0);
  });

  it('a silence made through one instance mutes the alerts of both, and an expiry made through the other ends it at both', async () => {
    const token = 'silence-test-token';
    const harness = await processHarness(suite.admin, 'rbq', {
      slos: `${pagerRouting(pagerDuty.url, { groupWait: '100ms', groupInterval: '300ms' }, { storm: false })}api: { tokenEnv: SEAMWATCH_API_TOKEN }\n`,
      env: { SEAMWATCH_PD_KEY: KEY, SEAMWATCH_API_TOKEN: token },
    });
    cleanups.push(harness.cleanup);
    const { topics, all, groupId, start } = harness;
    const since = pagerDuty.accepted().length;
    const tickets = Array.from({ length: 12 }, (_, i) => `rbq-${i}`);
    const triggers = () =>
      pagerDuty
        .accepted()
        .slice(since)
        .map((r) => r.body as { dedup_key: string; event_action: string; routing_key: string })
        .filter((b) => b.routing_key === KEY && b.event_action === 'trigger')
        .map((b) => b.dedup_key);
    const triggered = () => new Set(triggers());
    const silences = async (p: SeamwatchProcess) => ((await (await fetch(`http://127.0.0.1:${p.port}/api/v1/silences`)).json()) as { silences: { id: string; state: string }[] }).silences;
    const firing = async (p: SeamwatchProcess) => (await stuckAlerts(p)).filter((x) => x.state === 'firing' && tickets.includes(x.annotations['correlation_id']!));

    const a = await start();
    const b = await start();
    // Made through A before anything fires; B hears of it through the store.
    const made = await fetch(`http://127.0.0.1:${a.port}/api/v1/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ matchers: ['detector="stuck-ticket"'], duration: '2h', createdBy: 'ops@example.com', comment: 'ticketing migration' }),
    });
    expect(made.status).toBe(201);
    const id = ((await made.json()) as { id: string }).id;
    await waitFor('B to hold the silence made through A', async () => (await silences(b)).some((x) => x.id === id && x.state === 'active'), 20_000);

    // A dozen tickets stuck, on the partitions of both instances: all firing, none paged.
    for (const [topic, messages] of new Map([[topics.ticketing, tickets.map((t) => cloudEvent('ticketing', 'ticket.opened', `${t}-open`, t, T0, false))]])) await suite.producer.send({ topic, messages });
    for (const [topic, messages] of heartbeats(topics, T0 + 5 * H)) await suite.producer.send({ topic, messages });
    await waitFor('everything produced to be stored and committed', async () => (await groupLag(suite.admin, groupId, all)) === 0, 60_000);
    const [onA, onB] = await waitFor('each instance to have its share of stuck tickets firing', async () => {
      const shares = await Promise.all([firing(a), firing(b)]);
      return shares[0].length > 0 && shares[1].length > 0 && shares[0].length + shares[1].length === tickets.length ? shares : undefined;
    }, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect([...triggered()]).toEqual([]);

    // Expired through B: A hears of it too, and every ticket still stuck is paged, once each.
    const ended = await fetch(`http://127.0.0.1:${b.port}/api/v1/silences/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(ended.ok).toBe(true);
    await waitFor('A to see the silence expired', async () => (await silences(a)).some((x) => x.id === id && x.state === 'expired'), 20_000);
    const everyAlert = new Set([...onA, ...onB].map((x) => x.fingerprint));
    await waitFor('every stuck ticket paged', async () => [...everyAlert].every((fp) => triggered().has(fp)), 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(triggers().sort()).toEqual([...everyAlert].sort());
  });
});
