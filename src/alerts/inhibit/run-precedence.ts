import { DETECTOR_KINDS, type DetectorsConfig } from '../detectors/config.ts';
import { LabelMatcher } from '../routing/matcher.ts';
import type { InhibitRule } from './inhibit.ts';

/**
 * Which detector kinds speak first about one run (`alerting.runPrecedence`): while a run has a
 * firing alert of a kind earlier in the list, alerts of later kinds about the same run (same
 * workflow and correlation ID) are not paged — they are still listed in /api/v1/alerts. The
 * default says a run that failed partway is paged as a partial failure, not a second time as a
 * missed deadline. It is an inhibition (inhibit/inhibit.ts) with `sameRun`, ahead of the
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
      rules.push({ sourceMatchers: [detectorMatcher(names[i]!)], targetMatchers: [detectorMatcher(names[j]!)], equal: ['workflow'], sameRun: true });
    }
  }
  return rules;
}
