/**
 * Two seamwatch processes in one consumer group on the real broker and ClickHouse: both count the
 * same store, but only the holder of partition 0 pages an SLO's burn. When it dies, the other
 * takes the lead with the burn alert it paged, and resolves it once.
 */
import { describe, expect, it } from 'vitest';
import { kafkaSuite } from '../support/suite.ts';
import { PagerDutyContractServer } from '../support/pagerduty-server.ts';
import { processHarness } from '../support/processes.ts';
import { produceAll, T0 } from '../support/scenario.ts';
import { burnRuns as runs } from '../support/slo-burn.ts';
import { upgradeSyncSloYaml } from '../support/slo-fixtures.ts';
import { alertsOf, pagerRouting } from '../support/pager.ts';
import { CLICKHOUSE_URL, groupLag, waitFor } from '../support/services.ts';
import { SeamwatchProcess, freePort, writeConfig } from '../support/child.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { readFileSync } from 'node:fs';

const S = 1_000;
const M = 60 * S;
const KEY = 's'.repeat(32);

const SLOS = upgradeSyncSloYaml('99%');

describe('SLO burn with two instances in one consumer group', () => {
  const pagerDuty = new PagerDutyContractServer();
  const suite = kafkaSuite({ start: () => pagerDuty.start(), stop: () => pagerDuty.close() });

  const burnOn = async (p: SeamwatchProcess) => (await alertsOf(p)).filter((a) => a.labels['detector'] === 'slo-burn' && a.annotations['tier'] === 'page-1h');
  /**
   * Fresh topics, group and store for one case, the burn routed to PagerDuty; `told()` is what
   * PagerDuty was told of each alert since (a burn tier each: nothing else goes wrong here), by dedup_key.
   */
  async function pagedGroup(prefix: string) {
    const harness = await processHarness(suite.admin, prefix, {
      slos: SLOS + pagerRouting(pagerDuty.url, { groupWait: '100ms', groupInterval: '300ms' }, { storm: false }),
      pipeline: '{ flushInterval: 100ms, idleAdvanceAfter: 2s, sloEvaluateEvery: 200ms }',
      // No upgrade misses its workflow deadline: the burn is the only problem paged.
      upgradeDeadline: '10m',
      env: { SEAMWATCH_PD_KEY: KEY },
    });
    suite.cleanups.push(harness.cleanup);
    const since = pagerDuty.accepted().length;
    const told = () => {
      const out = new Map<string, string[]>();
      for (const r of pagerDuty.accepted().slice(since)) {
        const body = r.body as { dedup_key: string; event_action: string; routing_key: string };
        if (body.routing_key === KEY) out.set(body.dedup_key, [...(out.get(body.dedup_key) ?? []), body.event_action]);
      }
      return out;
    };
    const committed = () => waitFor('everything produced to be stored and committed', async () => (await groupLag(suite.admin, harness.groupId, harness.all)) === 0, 60_000);
    return { harness, told, committed };
  }

  it('is paged once, by the holder of partition 0; when it dies the other takes the lead and resolves it once', async () => {
    const { harness, told, committed } = await pagedGroup('sl');
    const { topics, all, groupId, start } = harness;

    const a = await start();
    const b = await start();
    await waitFor('both instances to hold partitions', async () => a.output.includes('partitions assigned') && b.output.includes('partitions assigned') && (await groupLag(suite.admin, groupId, all)) === 0, 30_000);
    await produceAll(suite.producer, runs(topics, 0, 88));
    await committed();
    const gauge = async (p: SeamwatchProcess) => /^seamwatch_slo_lead (\d+)$/m.exec(await (await fetch(`http://127.0.0.1:${p.port}/metrics`)).text())?.[1];
    const [lead, other] = await waitFor('one instance to lead', async () => {
      const leads = [await gauge(a), await gauge(b)];
      return leads.join() === '1,0' ? [a, b] : leads.join() === '0,1' ? [b, a] : undefined;
    }, 30_000);
    const burn = await waitFor('the page-1h burn to fire at the lead', async () => (await burnOn(lead)).find((x) => x.state === 'firing'), 60_000);
    await waitFor('the burn to be paged', async () => told().has(burn.fingerprint), 10_000);
    // Both instances evaluated the same burn all along: time for a second page, if one were coming.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(told().get(burn.fingerprint)).toEqual(['trigger']);
    for (const actions of told().values()) expect(actions.filter((x) => x === 'trigger')).toHaveLength(1);
    // The other instance lists the lead's burn as the store has it (behind a load balancer, either answers).
    await waitFor("the other instance to list the lead's burn", async () => (await burnOn(other)).some((x) => x.fingerprint === burn.fingerprint && x.state === 'firing'), 10_000);

    // The lead dies without a chance to hand over; the burn ends while the other takes over.
    await lead.kill();
    await waitFor('the other instance to take the lead', async () => other.output.includes('now evaluates and pages the SLOs'), 60_000);
    await produceAll(suite.producer, runs(topics, 88, 150));
    await committed();
    await waitFor('the burn to be resolved', async () => told().get(burn.fingerprint)?.includes('resolve'), 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(told().get(burn.fingerprint)).toEqual(['trigger', 'resolve']);
    // No tier was paged twice across the hand-over.
    for (const actions of told().values()) expect(actions.filter((x) => x === 'trigger')).toHaveLength(1);
    expect((await burnOn(other)).map((x) => x.state)).toEqual(['resolved']);
  });

  it("is evaluated only up to where every instance has stored its verdicts: one whose store writes fail holds the others back until it catches up", async () => {
    const harness = await processHarness(suite.admin, 'sw', {
      slos: SLOS,
      pipeline: '{ flushInterval: 100ms, idleAdvanceAfter: 2s, sloEvaluateEvery: 200ms }',
      upgradeDeadline: '10m',
    });
    suite.cleanups.push(harness.cleanup);
    const { topics, all, groupId, start, configFile } = harness;
    // B writes to ClickHouse through a relay the test can cut.
    const url = new URL(CLICKHOUSE_URL);
    const proxy = new TcpProxy({ host: url.hostname, port: Number(url.port) });
    await proxy.start();
    suite.cleanups.push(() => proxy.stop());
    const a = await start();
    const b = new SeamwatchProcess(writeConfig(readFileSync(configFile, 'utf8').replaceAll(CLICKHOUSE_URL, `http://127.0.0.1:${proxy.port}`)), await freePort());
    suite.cleanups.push(() => b.kill());
    await b.ready();
    await waitFor('B to hold partitions', async () => b.output.includes('partitions assigned'), 30_000);

    const marks = async () => {
      const prefix = `slo:${groupId}:stored:`;
      const docs = await harness.ch.documentsWithPrefix(prefix);
      return new Map([...docs].map(([key, doc]) => [Number(key.slice(prefix.length)), (JSON.parse(doc) as { watermark: number }).watermark]));
    };
    const statusAt = async (p: SeamwatchProcess) => {
      const body = (await (await fetch(`http://127.0.0.1:${p.port}/api/v1/slos`)).json()) as { slos: { at?: string }[] };
      return body.slos[0]?.at ? Date.parse(body.slos[0].at) : Number.NEGATIVE_INFINITY;
    };
    const partitionsOf = (p: SeamwatchProcess) => {
      const assigned = [...p.output.matchAll(/"assignment":(\{[^}]*\})/g)].at(-1)?.[1];
      return new Set(Object.values(JSON.parse(assigned ?? '{}') as Record<string, number[]>).flat());
    };

    // Half an hour of upgrades, stored by both.
    await produceAll(suite.producer, runs(topics, 0, 30));
    await waitFor('everything produced to be stored and committed', async () => (await groupLag(suite.admin, groupId, all)) === 0, 60_000);
    const onB = partitionsOf(b);
    expect(onB.size).toBeGreaterThan(0);
    const bMark = await waitFor("B's partitions to publish where they stored", async () => {
      const m = await marks();
      const held = [...onB].map((p) => m.get(p) ?? Number.NEGATIVE_INFINITY);
      return held.every((w) => w >= T0 + 25 * M) ? Math.min(...held) : undefined;
    }, 30_000);

    // A evaluates up to about there before the cut (an A without any status would pass the hold check below).
    await waitFor('A to evaluate the first half hour', async () => (await statusAt(a)) >= T0 + 20 * M, 30_000);

    // B's store writes fail from now on; another hour of upgrades arrives for both.
    proxy.cut();
    await produceAll(suite.producer, runs(topics, 30, 90));
    await waitFor("A to store its share of the next hour", async () => {
      const m = await marks();
      return [...m].filter(([p]) => !onB.has(p)).every(([, w]) => w >= T0 + 85 * M);
    }, 60_000);
    // A's SLO evaluation stays where B's verdicts are stored, though its own are an hour further.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await statusAt(a)).toBeLessThanOrEqual(bMark);
    const held = /^seamwatch_slo_held_back_seconds (\S+)$/m.exec(await (await fetch(`http://127.0.0.1:${a.port}/metrics`)).text())?.[1];
    expect(Number(held)).toBeGreaterThan(50 * 60);

    // B's store answers again: it stores its backlog, and A evaluates up to where both are.
    proxy.restore();
    await waitFor("A's SLO evaluation to move on once B caught up", async () => (await statusAt(a)) >= T0 + 80 * M, 60_000);
  });

  it('moves with partition 0 in a rebalance while both run: the burn is paged once and resolved once, by whoever leads by then (it moves to the other)', async () => {
    const { harness, told: toldHere, committed } = await pagedGroup('sr');
    const { topics, start } = harness;

    // A alone leads and pages the burn.
    const a = await start();
    await produceAll(suite.producer, runs(topics, 0, 88));
    await committed();
    const burn = await waitFor('the page-1h burn to fire', async () => (await burnOn(a)).find((x) => x.state === 'firing'), 60_000);
    await waitFor('the burn to be paged', async () => toldHere().has(burn.fingerprint), 10_000);

    // B joins: the group rebalances, and partition 0 moves to B (the co-partitioned assignment
    // hands partition 0 to the first member by id, and B's client id sorts first).
    const b = new SeamwatchProcess(writeConfig(readFileSync(harness.configFile, 'utf8').replace('groupId: ', 'clientId: a-first\n  groupId: ')), await freePort(), { SEAMWATCH_PD_KEY: KEY });
    suite.cleanups.push(() => b.kill());
    await b.ready();
    await waitFor('the lead to move to B', async () => {
      const leads = await Promise.all([a, b].map(async (p) => /^seamwatch_slo_lead (\d+)$/m.exec(await (await fetch(`http://127.0.0.1:${p.port}/metrics`)).text())?.[1]));
      return leads.join() === '0,1';
    }, 60_000);
    expect(b.output).toContain('now evaluates and pages the SLOs');
    // The burn ends.
    await produceAll(suite.producer, runs(topics, 88, 150));
    await committed();
    await waitFor('the burn to be resolved', async () => toldHere().get(burn.fingerprint)?.includes('resolve'), 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(toldHere().get(burn.fingerprint)).toEqual(['trigger', 'resolve']);
    for (const actions of toldHere().values()) expect(actions.filter((x) => x === 'trigger')).toHaveLength(1);
    // Both list the burn as the store has it: resolved.
    for (const p of [a, b]) await waitFor('each instance to list the burn resolved', async () => (await burnOn(p)).map((x) => x.state).join() === 'resolved', 10_000);
  });
});
