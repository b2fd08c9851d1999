import type { WorkflowDefinition } from '../../domain/workflow.ts';
import type { WorkflowEvent } from '../../domain/event.ts';
import type { DetectorsConfig } from './config.ts';
import type { Detector } from './detector.ts';
import { createDuplicateEffectDetector } from './duplicate-effect.ts';
import { compileClassifier } from './error-class.ts';
import { createExclusiveOutcomesDetector } from './exclusive-outcomes.ts';
import { createMissedDeadlineDetector, type RunVerdict } from './missed-deadline.ts';
import { createPartialFailureDetector } from './partial-failure.ts';
import { createSourceSilenceDetector } from './source-silence.ts';
import { createStuckDetector } from './stuck.ts';

/** Every configured detector, by what it consumes; each keeps its own (opaque) state. */
export interface DetectorSet {
  onEvents: Detector<unknown, WorkflowEvent>[];
  /**
   * Per event detector: true when what it remembers belongs to one run's partition (a stuck
   * ticket, a partial failure, exclusive outcomes), so its memory moves with the partition;
   * false when it looks across runs (a business key's duplicates, a whole source's silence).
   * Run detectors are always partition-local.
   */
  partitionLocal: boolean[];
  onRuns: Detector<unknown, RunVerdict>[];
}

/** Builds the detectors of a validated config; the workflows are the config's, by name. */
export function createDetectors(config: DetectorsConfig, workflows: readonly WorkflowDefinition[]): DetectorSet {
  const classify = compileClassifier(config.errors);
  const workflow = (name: string): WorkflowDefinition => {
    const found = workflows.find((w) => w.name === name);
    if (!found) throw new Error(`detectors: unknown workflow "${name}"`);
    return found;
  };
  // The schema made sure a detector without an owner names a workflow.
  const owned = <C extends { owner?: string | undefined; workflow?: string | undefined }>(c: C): C & { owner: string } => ({ ...c, owner: c.owner ?? workflow(c.workflow!).owner });
  return {
    onEvents: [
      ...config.duplicateEffects.map((c) => createDuplicateEffectDetector(owned(c))),
      ...config.stuck.map((c) => createStuckDetector(owned(c))),
      ...config.partialFailures.map((c) => createPartialFailureDetector(c, workflow(c.workflow), classify)),
      ...config.exclusiveOutcomes.map((c) => createExclusiveOutcomesDetector(owned(c))),
      ...config.sourceSilence.map((c) => createSourceSilenceDetector(owned(c))),
    ] as Detector<unknown, WorkflowEvent>[],
    partitionLocal: [
      ...config.duplicateEffects.map(() => false),
      ...config.stuck.map(() => true),
      ...config.partialFailures.map(() => true),
      ...config.exclusiveOutcomes.map(() => true),
      ...config.sourceSilence.map(() => false),
    ],
    onRuns: config.missedDeadlines.map((c) => createMissedDeadlineDetector(c, workflow(c.workflow))) as Detector<unknown, RunVerdict>[],
  };
}
