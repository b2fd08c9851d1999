import type { SloDefinitionRecord } from '../domain/alert-records.ts';
import type { SloDefinition } from './types.ts';
import { periodMs } from './window.ts';

/** An SLO as the dashboards read it: objective, window length and burn tiers as plain columns. */
export function sloDefinitionRecord(slo: SloDefinition): SloDefinitionRecord {
  const tiers = slo.alerting.tiers;
  return {
    slo: slo.name,
    workflow: slo.workflow,
    owner: slo.owner,
    objective: slo.objective,
    windowMs: periodMs(slo.window),
    tierNames: tiers.map((t) => t.name),
    tierFactors: tiers.map((t) => t.factor),
    tierLongMs: tiers.map((t) => t.longWindowMs),
    tierShortMs: tiers.map((t) => t.shortWindowMs),
  };
}
