/**
 * Two seamwatch processes in one consumer group on the real broker and ClickHouse: both count the
 * same store, but only the holder of partition 0 pages an SLO's burn. When it dies, the other
 * takes the lead with the burn alert it paged, and resolves it once.
 */
import { describe, expect, it } from 'vitest';
import type { Message } from 'kafkajs';
import { kafkaSuite } from '../support/suite.ts';
import { PagerDutyContractServer } from '../support/pagerduty-server.ts';
import { processHarness } from '../support/processes.ts';
import { billingWebhook, cloudEvent, produceAll, T0, type ScenarioTopics } from '../support/scenario.ts';
import { alertsOf, pagerRouting } from '../support/pager.ts';
import { groupLag, waitFor } from '../support/services.ts';
import type { SeamwatchProcess } from '../support/child.ts';

const S = 1_000;
const M = 60 * S;
const KEY = 's'.repeat(32);

const SLOS = `
slos:
  - name: upgrade-sync-5m
    workflow: plan-upgrade
    objective: 99%
    window: 30d
    indicator: { completed-within: 5m, steps: [invoice-updated, entitlement-activated] }
`;

/** A plan upgrade every 10 s; from minute 60 to 90 every other one syncs 6 minutes late (the page-1h tier fires). */
const late = (i: number) => i >= 360 && i < 540 && i % 2 === 0;

function runs(topics: ScenarioTopics, fromMinute: number, toMinute: number): Map<string, Message[]> {
  const out = new Map<string, Message[]>([[topics.crm, []], [topics.billing, []]]);
  for (let i = fromMinute * 6; i < toMinute * 6; i++) {
    const c = `r-${i}`;
    const t = T0 + i * 10 * S;
    out.get(topics.crm)!.push(cloudEvent('crm', 'subscription.upgraded', `up-${c}`, c, t, false));
    out.get(topics.billing)!.push(billingWebhook('invoice.updated', `inv-${c}`, c, t + 10 * S));
    out.get(topics.billing)!.push(billingWebhook('entitlement.activated', `ent-${c}`, c, t + (late(i) ? 6 * M : 20 * S)));
  }
  return out;
}

describe('SLO burn with two instances in one consumer group', () => {
  const pagerDuty = new PagerDutyContractServer();
  const suite = kafkaSuite({ start: () => pagerDuty.start(), stop: () => pagerDuty.close() });

  const burnOn = async (p: SeamwatchProcess) => (await alertsOf(p)).filter((a) => a.labels['detector'] === 'slo-burn' && a.annotations['tier'] === 'page-1h');
  /** What PagerDuty was told of each alert (a burn tier each: nothing else goes wrong here), by dedup_key. */
  const told = () => {
    const out = new Map<string, string[]>();
    for (const r of pagerDuty.accepted()) {
      const body = r.body as { dedup_key: string; event_action: string; routing_key: string };
      if (body.routing_key === KEY) out.set(body.dedup_key, [...(out.get(body.dedup_key) ?? []), body.event_action]);
    }
    return out;
  };

  it('is paged once, by the holder of partition 0; when it dies the other takes the lead and resolves it once', async () => {
    const harness = await processHarness(suite.admin, 'sl', {
      slos: SLOS + pagerRouting(pagerDuty.url, { groupWait: '100ms', groupInterval: '300ms' }, { storm: false }),
      pipeline: '{ flushInterval: 100ms, idleAdvanceAfter: 2s, sloEvaluateEvery: 200ms }',
      // No upgrade misses its workflow deadline: the burn is the only problem paged.
      upgradeDeadline: '10m',
      env: { SEAMWATCH_PD_KEY: KEY },
    });
    suite.cleanups.push(harness.cleanup);
    const { topics, all, groupId, start } = harness;
    const committed = () => waitFor('everything produced to be stored and committed', async () => (await groupLag(suite.admin, groupId, all)) === 0, 60_000);

    const a = await start();
    const b = await start();
    await waitFor('both instances to hold partitions', async () => a.output.includes('partitions assigned') && b.output.includes('partitions assigned') && (await groupLag(suite.admin, groupId, all)) === 0, 30_000);
    await produceAll(suite.producer, runs(topics, 0, 88));
    await committed();
    const shares = await waitFor('the page-1h burn to fire at one instance', async () => {
      const found = await Promise.all([burnOn(a), burnOn(b)]);
      return found.some((s) => s.some((x) => x.state === 'firing')) ? found : undefined;
    }, 60_000);
    const [lead, other] = shares[0]!.length > 0 ? [a, b] : [b, a];
    const burn = (await burnOn(lead))[0]!;
    await waitFor('the burn to be paged', async () => told().has(burn.fingerprint), 10_000);
    // Both instances evaluated the same burn all along: time for a second page, if one were coming.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(told().get(burn.fingerprint)).toEqual(['trigger']);
    for (const actions of told().values()) expect(actions.filter((x) => x === 'trigger')).toHaveLength(1);
    expect(await burnOn(other)).toEqual([]);

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
});
