import type { Alert } from '../types.ts';
import { labelValue, type Labels } from '../routing/labels.ts';
import { matchesAll, type LabelMatcher } from '../routing/matcher.ts';

/**
 * While a firing alert matches `sourceMatchers`, alerts that match `targetMatchers` and have
 * the same values for the `equal` labels (a label both lack counts as equal) are not notified.
 * Example: an SLO page for a workflow inhibits that workflow's per-run deadline alerts.
 */
export interface InhibitRule {
  sourceMatchers: readonly LabelMatcher[];
  targetMatchers: readonly LabelMatcher[];
  equal: readonly string[];
  /** Source and target are about the same run: the same `correlation_id` annotation (run precedence). */
  sameRun?: boolean;
  /**
   * The source inhibits only a target that started (`startsAt`, event time) no earlier than it
   * (`atOrBefore`) or strictly after it (`before`): run precedence lets the first problem of a
   * run page, and the precedence decide only between problems of the same instant.
   */
  sourceStarted?: 'atOrBefore' | 'before';
}

/**
 * The fingerprint of a firing alert that inhibits an alert with these labels, or undefined.
 * `alerts` are the candidate sources: every alert the lifecycle holds, silenced or not (as in
 * Alertmanager, a silenced source still inhibits). Only firing alerts inhibit. An alert that
 * matches both sides of a rule is never inhibited by another alert that also matches both
 * sides, so two such alerts cannot mute each other.
 */
export function inhibitedBy(rules: readonly InhibitRule[], alerts: readonly Alert[], labels: Labels, annotations: Readonly<Record<string, string>> = {}, startsAt = Number.POSITIVE_INFINITY): string | undefined {
  const run = annotations['correlation_id'];
  for (const rule of rules) {
    if (!matchesAll(rule.targetMatchers, labels)) continue;
    if (rule.sameRun && !run) continue;
    const twoSided = matchesAll(rule.sourceMatchers, labels);
    for (const source of alerts) {
      if (source.state !== 'firing' || !matchesAll(rule.sourceMatchers, source.labels)) continue;
      if (!rule.equal.every((name) => labelValue(source.labels, name) === labelValue(labels, name))) continue;
      if (rule.sameRun && source.annotations['correlation_id'] !== run) continue;
      if (rule.sourceStarted === 'atOrBefore' ? source.startsAt > startsAt : rule.sourceStarted === 'before' && source.startsAt >= startsAt) continue;
      if (twoSided && matchesAll(rule.targetMatchers, source.labels)) continue;
      return source.fingerprint;
    }
  }
  return undefined;
}

export function isInhibited(rules: readonly InhibitRule[], alerts: readonly Alert[], labels: Labels): boolean {
  return inhibitedBy(rules, alerts, labels) !== undefined;
}
