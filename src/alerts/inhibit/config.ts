import { z } from 'zod';
import { labelNamesField, matchersField } from '../routing/config.ts';
import type { InhibitRule } from './inhibit.ts';

/**
 * `inhibit_rules:` in config, Alertmanager's shape:
 *
 *   inhibit_rules:
 *     - source_matchers: ['detector="slo-burn"', 'severity="critical"']
 *       target_matchers: ['detector="missed-deadline"']
 *       equal: [workflow]
 *
 * Both sides need a matcher: an empty side would let every alert inhibit, or be inhibited.
 */
const inhibitRule = z
  .object({
    source_matchers: matchersField,
    target_matchers: matchersField,
    equal: labelNamesField({ allowAll: false }).default([]),
  })
  .strict()
  .superRefine((rule, ctx) => {
    if (rule.source_matchers.length === 0) ctx.addIssue({ code: 'custom', path: ['source_matchers'], message: 'at least one matcher is needed (otherwise every alert inhibits)' });
    if (rule.target_matchers.length === 0) ctx.addIssue({ code: 'custom', path: ['target_matchers'], message: 'at least one matcher is needed (otherwise every alert can be inhibited)' });
  })
  .transform((rule): InhibitRule => ({ sourceMatchers: rule.source_matchers, targetMatchers: rule.target_matchers, equal: rule.equal }));

export const inhibitRulesSchema = z.array(inhibitRule, { error: 'must be a list of inhibit rules' });
