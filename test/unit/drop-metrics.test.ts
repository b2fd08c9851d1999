import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { AlertEngine } from '../../src/alerts/engine.ts';
import { detectorsSchema } from '../../src/alerts/detectors/config.ts';
import type { WorkflowEvent } from '../../src/domain/event.ts';
import { PipelineMetrics } from '../../src/telemetry/pipeline-metrics.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const T0 = Date.UTC(2026, 10, 3, 9);

async function metric(registry: Registry, name: string): Promise<string> {
  return (await registry.getSingleMetricAsString(name)).split('\n').filter((l) => !l.startsWith('#')).join('\n');
}

describe('pipeline metrics: what the stitcher keeps as plain totals', () => {
  it('turns running totals into counter increments, whenever they are read', async () => {
    const registry = new Registry();
    const metrics = new PipelineMetrics(registry, ['crm']);
    const totals = { unmatched: 3, lateForClosedRun: 1, extraTriggers: 0, heldExpired: 2, heldEvicted: 0, runsStarted: 5, runsEvicted: 4, runsVisited: 6 };
    metrics.stitchTotals(totals);
    metrics.stitchTotals(totals);
    metrics.stitchTotals({ ...totals, heldExpired: 7 });
    expect(await metric(registry, 'seamwatch_stitch_events_total')).toBe(
      [
        'seamwatch_stitch_events_total{outcome="unmatched"} 3',
        'seamwatch_stitch_events_total{outcome="late_for_closed_run"} 1',
        'seamwatch_stitch_events_total{outcome="held_expired"} 7',
      ].join('\n'),
    );
    expect(await metric(registry, 'seamwatch_runs_total')).toBe(['seamwatch_runs_total{change="started"} 5', 'seamwatch_runs_total{change="evicted"} 4'].join('\n'));
    expect(await metric(registry, 'seamwatch_stitch_runs_due_total')).toBe('seamwatch_stitch_runs_due_total 6');
  });

  it('sets the watermark lag to the wall clock minus the watermark, and keeps the last value while event time is unknown', async () => {
    const registry = new Registry();
    const metrics = new PipelineMetrics(registry, []);
    metrics.watermarkLag(T0, T0 - 90_500);
    expect(await metric(registry, 'seamwatch_watermark_lag_seconds')).toBe('seamwatch_watermark_lag_seconds 90.5');
    metrics.watermarkLag(T0 + 1_000, Number.NEGATIVE_INFINITY);
    expect(await metric(registry, 'seamwatch_watermark_lag_seconds')).toBe('seamwatch_watermark_lag_seconds 90.5');
  });
});

describe('alert engine metrics: what detectors set aside', () => {
  const invoice = (id: string, time: number, account: string | null = 'acme'): WorkflowEvent => ({
    source: 'billing',
    id,
    type: 'invoice.created',
    time,
    correlationId: `c-${id}`,
    data: account === null ? { billing_period: '2026-11' } : { account_id: account, billing_period: '2026-11' },
    origin: { topic: 'billing.webhooks', partition: 0, offset: '0' },
  });

  function engine(registry: Registry): AlertEngine {
    return new AlertEngine({
      detectors: detectorsSchema.parse({
        duplicateEffects: [{ name: 'duplicate-invoice', owner: 'billing-platform', match: { source: 'billing', type: 'invoice.created' }, businessKey: ['account_id', 'billing_period'], window: '1d' }],
      }),
      workflows: [],
      lifecycle: { pendingFor: 0, keepFiringFor: 0, traceUrlBase: 'http://seamwatch/traces/' },
      registry,
      logger: silentLogger(),
    });
  }

  it('counts too-old events, events without a business key and keys forgotten past their window, by detector and reason', async () => {
    const registry = new Registry();
    const alerts = engine(registry);
    alerts.onEvent(invoice('evt_1', T0), T0);
    alerts.onEvent(invoice('evt_2', T0, null), T0);
    alerts.onEvent(invoice('evt_old', T0 - 2 * DAY), T0);
    // A watermark that jumped far ahead forgets every key at once: it shows as expired.
    alerts.tick(T0 + 3 * DAY);
    expect(await metric(registry, 'seamwatch_detector_drops_total')).toBe(
      [
        'seamwatch_detector_drops_total{detector="duplicate-invoice",reason="without_key"} 1',
        'seamwatch_detector_drops_total{detector="duplicate-invoice",reason="too_old"} 1',
        'seamwatch_detector_drops_total{detector="duplicate-invoice",reason="expired"} 1',
      ].join('\n'),
    );
    // Read again with nothing new: the counts stay.
    expect(await metric(registry, 'seamwatch_detector_drops_total')).toContain('reason="expired"} 1');
  });
});
