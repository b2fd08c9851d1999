import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { alertingSchema } from '../../src/alerts/config.ts';
import { detectorsSchema } from '../../src/alerts/detectors/config.ts';
import { AlertDispatcher } from '../../src/alerts/dispatcher.ts';
import { inhibitedBy } from '../../src/alerts/inhibit/inhibit.ts';
import { runPrecedenceRules } from '../../src/alerts/inhibit/run-precedence.ts';
import { routingTreeSchema } from '../../src/alerts/routing/config.ts';
import { buildRoutingTree } from '../../src/alerts/routing/tree.ts';
import type { Alert } from '../../src/alerts/types.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { PagedRecorder } from '../support/recording-receiver.ts';

const DETECTORS = detectorsSchema.parse({
  partialFailures: [{ name: 'charged-not-entitled', workflow: 'plan-upgrade', irreversible: ['invoice-updated'] }],
  missedDeadlines: [{ name: 'upgrade-late', workflow: 'plan-upgrade' }],
  duplicateEffects: [],
});

const T0 = Date.UTC(2026, 10, 3, 9);
const alert = (detector: string, run: string, startsAt = T0, fingerprint = `${detector}/${run}`): Alert => ({
  fingerprint,
  labels: { alertname: detector, detector, team: 'billing-platform', severity: 'error', workflow: 'plan-upgrade' },
  annotations: { summary: `${detector} ${run}`, correlation_id: run },
  state: 'firing',
  startsAt,
  endsAt: 0,
  generatorUrl: '',
});

async function pages(precedence: unknown, alerts: Alert[]): Promise<string[]> {
  const alerting = alertingSchema.parse({ runPrecedence: precedence });
  const receiver = new PagedRecorder();
  const tree = buildRoutingTree(routingTreeSchema.parse({ receiver: 'pager', group_wait: '0s', group_interval: '20ms' }));
  const dispatcher = new AlertDispatcher({ tree, receivers: [receiver], inhibitRules: runPrecedenceRules(alerting.runPrecedence, DETECTORS), timeIntervals: [], registry: new Registry(), logger: silentLogger() });
  await dispatcher.start();
  for (const a of alerts) dispatcher.take({ kind: 'firing', alert: a });
  await new Promise((r) => setTimeout(r, 150));
  await dispatcher.shutdown();
  return receiver.paged.sort();
}

describe('run precedence: one run, one page', () => {
  it('by default, a run that failed partway is paged as a partial failure, not again as a missed deadline', async () => {
    expect(alertingSchema.parse({}).runPrecedence).toEqual(['partialFailures', 'missedDeadlines']);
    const paged = await pages(undefined, [alert('charged-not-entitled', 'up-1'), alert('upgrade-late', 'up-1'), alert('upgrade-late', 'up-2')]);
    expect(paged).toEqual(['charged-not-entitled/up-1', 'upgrade-late/up-2']);
  });

  it('the first problem of a run pages: a deadline paged before a step failed is not followed by a second page for the failure', async () => {
    // up-1's entitlement failed after its deadline had passed (and paged); up-2's failed before it.
    const paged = await pages(undefined, [
      alert('upgrade-late', 'up-1', T0 + 5 * 60_000),
      alert('charged-not-entitled', 'up-1', T0 + 6 * 60_000),
      alert('charged-not-entitled', 'up-2', T0 + 60_000),
      alert('upgrade-late', 'up-2', T0 + 5 * 60_000),
    ]);
    expect(paged).toEqual(['charged-not-entitled/up-2', 'upgrade-late/up-1']);
  });

  it('[] turns it off: both are paged', async () => {
    const paged = await pages([], [alert('charged-not-entitled', 'up-1'), alert('upgrade-late', 'up-1')]);
    expect(paged).toEqual(['charged-not-entitled/up-1', 'upgrade-late/up-1']);
  });

  it('the order is the user\'s: missed deadlines first holds back the partial failure', async () => {
    const paged = await pages(['missedDeadlines', 'partialFailures'], [alert('charged-not-entitled', 'up-1'), alert('upgrade-late', 'up-1')]);
    expect(paged).toEqual(['upgrade-late/up-1']);
  });

  it('another workflow or another run is never held back, and a later kind holds back an earlier one only when it started first', () => {
    const rules = runPrecedenceRules(['partialFailures', 'missedDeadlines'], DETECTORS);
    const source = alert('charged-not-entitled', 'up-1');
    const target = alert('upgrade-late', 'up-1');
    expect(inhibitedBy(rules, [source], target.labels, target.annotations, T0)).toBe(source.fingerprint);
    expect(inhibitedBy(rules, [source], target.labels, target.annotations, T0 + 1)).toBe(source.fingerprint);
    expect(inhibitedBy(rules, [source], target.labels, target.annotations, T0 - 1)).toBeUndefined();
    expect(inhibitedBy(rules, [source], target.labels, { correlation_id: 'up-2' }, T0)).toBeUndefined();
    expect(inhibitedBy(rules, [source], { ...target.labels, workflow: 'refund' }, target.annotations, T0)).toBeUndefined();
    expect(inhibitedBy(rules, [target], source.labels, source.annotations, T0)).toBeUndefined();
    expect(inhibitedBy(rules, [target], source.labels, source.annotations, T0 + 1)).toBe(target.fingerprint);
    expect(inhibitedBy(rules, [{ ...source, state: 'resolved' }], target.labels, target.annotations, T0)).toBeUndefined();
  });

  it('is validated with the YAML key names', () => {
    const bad = alertingSchema.safeParse({ runPrecedence: ['partialFailures', 'sourceSilence', 'partialFailures'] });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'runPrecedence.1: must be one of duplicateEffects, stuck, missedDeadlines, partialFailures, exclusiveOutcomes',
    ]);
  });
});
