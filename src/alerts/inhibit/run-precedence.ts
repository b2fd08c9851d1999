import { DETECTOR_KINDS, type DetectorsConfig } from '../detectors/config.ts';
import { LabelMatcher } from '../routing/matcher.ts';
import type { InhibitRule } from './inhibit.ts';

/**
 * One run, one page (`alerting.runPrecedence`): while a run (same workflow and correlation ID)
 * has a firing alert of one of these kinds, later alerts of the others about it are not paged —
 * they are still listed in /api/v1/alerts. The first problem of a run in event time pages;
 * between problems that start at the same instant, the kind earlier in the list does. So a run
 * that failed partway is paged as a partial failure, not a second time as a missed deadline, and
 * one whose deadline was paged before a step failed is not paged again for the failure (the open
 * incident's trace shows it). Inhibitions (inhibit/inhibit.ts) with `sameRun`, ahead of the
 * configured inhibit_rules; `runPrecedence: []` turns it off.
 */
export const RUN_DETECTOR_KINDS = DETECTOR_KINDS.filter((kind) => kind !== 'sourceSilence');
export type RunDetectorKind = (typeof RUN_DETECTOR_KINDS)[number];

export const DEFAULT_RUN_PRECEDENCE: readonly RunDetectorKind[] = ['partialFailures', 'missedDeadlines'];

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const detectorMatcher = (names: readonly string[]) => LabelMatcher.of({ name: 'detector', type: '=~', value: names.map(escapeRegex).join('|') });

export function runPrecedenceRules(precedence: readonly RunDetectorKind[], detectors: DetectorsConfig): InhibitRule[] {
  const names = precedence.map((kind) => detectors[kind].map((d) => d.name));
  const rules: InhibitRule[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      if (names[i]!.length === 0 || names[j]!.length === 0) continue;
      const [first, later] = [[detectorMatcher(names[i]!)], [detectorMatcher(names[j]!)]];
      rules.push({ sourceMatchers: first, targetMatchers: later, equal: ['workflow'], sameRun: true, sourceStarted: 'atOrBefore' });
      rules.push({ sourceMatchers: later, targetMatchers: first, equal: ['workflow'], sameRun: true, sourceStarted: 'before' });
    }
  }
  return rules;
}
