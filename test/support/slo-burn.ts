import type { Message } from 'kafkajs';
import { billingWebhook, cloudEvent, T0, type ScenarioTopics } from './scenario.ts';

const S = 1_000;
const M = 60 * S;

/** From minute 60 to 90 every other upgrade syncs 6 minutes late: the 5m SLO's page-1h tier fires, and resolves once all are on time again. */
const late = (i: number) => i >= 360 && i < 540 && i % 2 === 0;

/**
 * The messages of the plan upgrades started in [fromMinute, toMinute) after T0, one every 10 s,
 * by topic: what the SLO burn tests (upgradeSyncSloYaml('99%')) produce.
 */
export function burnRuns(topics: ScenarioTopics, fromMinute: number, toMinute: number): Map<string, Message[]> {
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
