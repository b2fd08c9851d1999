import { z } from 'zod';
import { formatPath } from '../../config/load.ts';
import { inhibitRulesSchema } from '../inhibit/config.ts';
import type { InhibitRule } from '../inhibit/inhibit.ts';
import { timeIntervalsSchema } from '../silences/time-interval-config.ts';
import type { MaintenanceWindow } from '../silences/time-interval.ts';
import { routingTreeSchema } from './config.ts';
import { routingReferenceProblems } from './references.ts';
import { buildRoutingTree, type RoutingTree } from './tree.ts';

/**
 * The alert-routing part of the config: `routes:` (the root route), `inhibit_rules:` and
 * `time_intervals:`. These are the keys to add to config/schema.ts, with
 * `routingReferenceProblems` beside config/references.ts; until then this validates them alone,
 * reporting every problem with its key path as `seamwatch validate` does.
 */
export const alertRoutingSchema = z.object({
  routes: routingTreeSchema,
  inhibit_rules: inhibitRulesSchema.default([]),
  time_intervals: timeIntervalsSchema.default([]),
});

export interface AlertRouting {
  tree: RoutingTree;
  inhibitRules: InhibitRule[];
  timeIntervals: MaintenanceWindow[];
}

export function validateAlertRouting(raw: unknown, receivers: readonly string[]): { ok: true; routing: AlertRouting } | { ok: false; problems: string[] } {
  const result = alertRoutingSchema.safeParse(raw, { reportInput: true });
  const problems = [
    ...(result.success
      ? []
      : result.error.issues.flatMap((issue) => {
          if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown key`);
          const missing = (issue.code === 'invalid_type' || issue.code === 'invalid_union') && issue.input === undefined;
          return [`${formatPath(issue.path)}: ${missing ? 'required' : issue.message}`];
        })),
    ...routingReferenceProblems(raw, receivers).map((p) => `${formatPath(p.path)}: ${p.message}`),
  ];
  if (!result.success || problems.length > 0) return { ok: false, problems: [...new Set(problems)] };
  return {
    ok: true,
    routing: { tree: buildRoutingTree(result.data.routes), inhibitRules: result.data.inhibit_rules, timeIntervals: result.data.time_intervals },
  };
}
