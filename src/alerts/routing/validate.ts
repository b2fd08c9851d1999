import { z } from 'zod';
import { formatPath } from '../../base/raw-config.ts';
import { inhibitRulesSchema } from '../inhibit/config.ts';
import type { InhibitRule } from '../inhibit/inhibit.ts';
import { timeIntervalsSchema } from '../time-intervals/config.ts';
import type { MaintenanceWindow } from '../time-intervals/time-interval.ts';
import { routingTreeSchema } from './config.ts';
import { routingReferenceProblems } from './references.ts';
import { buildRoutingTree, type RoutingTree } from './tree.ts';

/**
 * The alert-routing part of the config alone: `routes:` (the root route), `inhibit_rules:` and
 * `time_intervals:`, checked with their cross-references and every problem reported with its key
 * path, as `seamwatch validate` does for the whole file (the root schema holds the same keys).
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
