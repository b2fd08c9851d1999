import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { AlertEngine } from '../../src/alerts/engine.ts';
import { detectorsSchema } from '../../src/alerts/detectors/config.ts';
import { decodeState, encodeState } from '../../src/alerts/persistence.ts';
import type { SloAlertSignal } from '../../src/slo/types.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

const MINUTE = 60_000;
const T0 = Date.parse('2026-03-02T12:00:00Z');

function engine(): AlertEngine {
  return new AlertEngine({
    detectors: detectorsSchema.parse({}),
    workflows: [],
    lifecycle: { pendingFor: 2 * MINUTE, keepFiringFor: 5 * MINUTE, traceUrlBase: 'http://seamwatch/traces/' },
    registry: new Registry(),
    logger: silentLogger(),
  });
}

function burn(kind: SloAlertSignal['kind'], slo: string, tier: string, at: number): SloAlertSignal {
  return { kind, slo, workflow: 'plan-upgrade', owner: 'billing-platform', tier, severity: 'page', longWindowMs: 60 * MINUTE, shortWindowMs: 5 * MINUTE, burnRate: 20, factor: 14.4, budgetRemaining: 0.5, at };
}

describe('AlertEngine.firingTiers: the burn tiers an SLO engine owes a resolve to', () => {
  it('names pending and firing tiers of that SLO, not those resolving or resolved, and survives a restore', () => {
    const before = engine();
    before.signal(burn('firing', 'sync', 'page-1h', T0)); // pending until T0 + 2m
    before.signal(burn('firing', 'sync', 'page-6h', T0));
    before.signal(burn('firing', 'sync', 'ticket-1d', T0));
    before.signal(burn('firing', 'other', 'page-1h', T0));
    before.tick(T0 + 3 * MINUTE);
    before.signal(burn('firing', 'sync', 'ticket-3d', T0 + 3 * MINUTE)); // pending
    before.signal(burn('resolved', 'sync', 'ticket-1d', T0 + 3 * MINUTE));
    before.tick(T0 + 6 * MINUTE);
    before.signal(burn('resolved', 'sync', 'page-6h', T0 + 6 * MINUTE)); // still firing until T0 + 11m: keep-firing-for
    before.tick(T0 + 9 * MINUTE);
    expect(before.alerts().filter((a) => a.annotations['tier'] === 'page-6h').map((a) => a.state)).toEqual(['firing']);
    before.signal(burn('firing', 'sync', 'ticket-3d', T0 + 9 * MINUTE));
    expect([...before.firingTiers('sync')].sort()).toEqual(['page-1h', 'ticket-3d']);

    const after = engine();
    after.restore(decodeState(encodeState(before.snapshot())));
    expect([...after.firingTiers('sync')].sort()).toEqual(['page-1h', 'ticket-3d']);
    expect([...after.firingTiers('unknown')]).toEqual([]);
  });
});
