import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AlertDispatcher } from '../../src/alerts/dispatcher.ts';
import { inhibitRulesSchema } from '../../src/alerts/inhibit/config.ts';
import { routingTreeSchema } from '../../src/alerts/routing/config.ts';
import { buildRoutingTree } from '../../src/alerts/routing/tree.ts';
import type { Alert } from '../../src/alerts/types.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { PagedRecorder } from '../support/recording-receiver.ts';

const T0 = Date.UTC(2026, 10, 30, 9);
const alert = (detector: string, key: string, severity = 'critical'): Alert => ({
  fingerprint: `${detector}/${key}`,
  labels: { alertname: detector, detector, team: 'billing-platform', severity, workflow: 'plan-upgrade' },
  annotations: { summary: `${detector} ${key}` },
  state: 'firing',
  startsAt: T0,
  endsAt: 0,
  generatorUrl: '',
});

/** What one instance pages of its own missed deadline while the group's SLO lead holds (or not) a burn alert. */
async function pagedBeside(othersFiring: Alert[] | undefined): Promise<string[]> {
  const receiver = new PagedRecorder();
  const dispatcher = new AlertDispatcher({
    tree: buildRoutingTree(routingTreeSchema.parse({ receiver: 'pager', group_wait: '0s', group_interval: '20ms' })),
    receivers: [receiver],
    inhibitRules: inhibitRulesSchema.parse([{ source_matchers: ['detector="slo-burn"'], target_matchers: ['detector="upgrade-late"'], equal: ['workflow'] }]),
    timeIntervals: [],
    ...(othersFiring ? { othersFiring: () => othersFiring } : {}),
    registry: new Registry(),
    logger: silentLogger(),
  });
  await dispatcher.start();
  dispatcher.take({ kind: 'firing', alert: alert('upgrade-late', 'up-1', 'error') });
  await new Promise((r) => setTimeout(r, 120));
  await dispatcher.shutdown();
  return receiver.paged;
}

describe('inhibition by alerts another instance of the group pages', () => {
  it("a burn alert the SLO lead holds mutes this instance's missed deadlines, as it does at the lead", async () => {
    expect(await pagedBeside([alert('slo-burn', 'upgrade-sync-5m:page-1h')])).toEqual([]);
  });

  it('without it (or with a burn of another workflow) the missed deadline is paged', async () => {
    expect(await pagedBeside(undefined)).toEqual(['upgrade-late/up-1']);
    const other = alert('slo-burn', 'refund-5m:page-1h');
    expect(await pagedBeside([{ ...other, labels: { ...other.labels, workflow: 'refund' } }])).toEqual(['upgrade-late/up-1']);
  });
});
