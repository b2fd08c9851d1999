import { defaultTiers } from '../../src/slo/burn-rate.ts';
import type { SloDefinition } from '../../src/slo/types.ts';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** A compiled 99 % success-ratio SLO over 30 days with the default tiers: what the SLO unit tests step. */
export const SUCCESS_SLO: SloDefinition = {
  name: 'upgrade-sync',
  workflow: 'plan-upgrade',
  owner: 'billing-platform',
  objective: 0.99,
  window: { kind: 'rolling', durationMs: 30 * DAY },
  indicator: { kind: 'success-ratio' },
  alerting: { tiers: defaultTiers(30 * DAY), minEvents: 20 },
  origin: 'config',
};

/** The scenario's upgrade SLO as YAML (a `slos:` section): both billing steps within 5 minutes. */
export function upgradeSyncSloYaml(objective: string): string {
  return `
slos:
  - name: upgrade-sync-5m
    workflow: plan-upgrade
    objective: ${objective}
    window: 30d
    indicator: { completed-within: 5m, steps: [invoice-updated, entitlement-activated] }
`;
}
