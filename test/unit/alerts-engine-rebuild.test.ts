import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AlertEngine } from '../../src/alerts/engine.ts';
import { detectorsSchema } from '../../src/alerts/detectors/config.ts';
import type { AlertChange } from '../../src/alerts/lifecycle/alert-book.ts';
import type { WorkflowEvent } from '../../src/domain/event.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

const T0 = Date.UTC(2026, 10, 2, 9);

const invoice = (id: string, offset: number, at: number): WorkflowEvent => ({
  source: 'billing',
  id,
  type: 'invoice.created',
  time: at,
  correlationId: `bill-${id}`,
  data: { account_id: 'acct-1', billing_period: '2026-11' },
  origin: { topic: 'billing.events', partition: 0, offset: String(offset) },
});

function engine() {
  const changes: AlertChange[] = [];
  const alerts = new AlertEngine({
    detectors: detectorsSchema.parse({
      duplicateEffects: [{ name: 'duplicate-invoice', owner: 'billing', match: { source: 'billing', type: 'invoice.created' }, businessKey: ['account_id', 'billing_period'], window: '35d' }],
    }),
    workflows: [],
    lifecycle: { pendingFor: 0, keepFiringFor: 0, traceUrlBase: 'http://seamwatch/traces/' },
    registry: new Registry(),
    logger: silentLogger(),
    onChange: (change) => changes.push(change),
  });
  return { alerts, changes };
}

describe('AlertEngine.rebuild after a restart', () => {
  it('raises nothing again for events behind the committed offsets whose alert the saved book has', () => {
    const first = engine();
    first.alerts.rebuild([], [invoice('a', 10, T0), invoice('b', 11, T0 + 60_000)]);
    const { alerts, changes } = engine();
    alerts.restore(first.alerts.snapshot());
    alerts.rebuild([invoice('a', 10, T0), invoice('b', 11, T0 + 60_000)]);
    expect(changes).toEqual([]);
    expect(alerts.alerts().map((a) => a.state)).toEqual(['firing']);
  });

  it('raises an alert the saved book does not know from committed events: it fired after the commit and the kill came before the save', () => {
    const { alerts, changes } = engine();
    alerts.rebuild([invoice('a', 10, T0), invoice('b', 11, T0 + 60_000)]);
    expect(changes.map((c) => `${c.kind} ${c.alert.labels['detector']}`)).toEqual(['pending duplicate-invoice', 'firing duplicate-invoice']);
  });

  it('raises what stored but uncommitted events raised live: the crash may have come before their alert was saved', () => {
    const { alerts, changes } = engine();
    alerts.rebuild([invoice('a', 10, T0)], [invoice('b', 11, T0 + 60_000)]);
    expect(changes.map((c) => `${c.kind} ${c.alert.labels['detector']}`)).toEqual(['pending duplicate-invoice', 'firing duplicate-invoice']);
  });

  it('keeps a replayed alert that the restored book already has as one alert, with no new change', () => {
    const first = engine();
    first.alerts.rebuild([], [invoice('a', 10, T0), invoice('b', 11, T0 + 60_000)]);
    const { alerts, changes } = engine();
    alerts.restore(first.alerts.snapshot());
    alerts.rebuild([], [invoice('a', 10, T0), invoice('b', 11, T0 + 60_000)]);
    expect(changes).toEqual([]);
    expect(alerts.alerts().filter((a) => a.state === 'firing')).toHaveLength(1);
  });
});

describe('AlertEngine keeps memory bounded', () => {
  const DAY = 86_400_000;
  const make = (stillOwed: (fingerprint: string) => boolean = () => false) => {
    const changes: AlertChange[] = [];
    const alerts = new AlertEngine({
      detectors: detectorsSchema.parse({
        duplicateEffects: [{ name: 'duplicate-invoice', owner: 'billing', match: { source: 'billing', type: 'invoice.created' }, businessKey: ['account_id', 'billing_period'], window: '2d' }],
      }),
      workflows: [],
      lifecycle: { pendingFor: 0, keepFiringFor: 0, traceUrlBase: 'http://seamwatch/traces/' },
      registry: new Registry(),
      logger: silentLogger(),
      onChange: (change) => changes.push(change),
      resolvedRetentionMs: DAY,
      stillOwed,
    });
    alerts.onEvent(invoice('a', 10, T0), T0);
    alerts.onEvent(invoice('b', 11, T0 + 60_000), T0 + 60_000);
    alerts.tick(T0 + 120_000);
    return { alerts, changes };
  };

  it('forgets a resolved alert once its retention and every detector window have passed, not before', () => {
    const { alerts, changes } = make();
    expect(changes.map((c) => c.kind)).toEqual(['pending', 'firing']);
    // The duplicate's window (2d) ends: resolved. A day later the retention alone would have passed,
    // but not the detector's window since it ended.
    alerts.tick(T0 + 2 * DAY + 120_000);
    expect(alerts.alerts().map((a) => a.state)).toEqual(['resolved']);
    alerts.tick(T0 + 3 * DAY + 180_000);
    expect(alerts.alerts()).toHaveLength(1);
    alerts.tick(T0 + 4 * DAY + 240_000);
    expect(alerts.alerts()).toEqual([]);
  });

  it('keeps a resolved alert whose resolve a receiver is still owed', () => {
    const { alerts } = make(() => true);
    alerts.tick(T0 + 2 * DAY + 120_000);
    alerts.tick(T0 + 10 * DAY);
    expect(alerts.alerts().map((a) => a.state)).toEqual(['resolved']);
  });
});
