import { z } from 'zod';
import { formatDuration } from '../../domain/duration.ts';
import type { WorkflowDefinition } from '../../domain/workflow.ts';
import type { RunRecord } from '../../domain/records.ts';
import type { DetectorSignal } from '../types.ts';
import { evictOver, touch } from '../../base/bounded-map.ts';
import { inEventTimeOrder, type Detector } from './detector.ts';
import { checkTemplate, detectorName, maxKeys, positiveDuration, severity } from './schema-parts.ts';
import { fillTemplate, formatTime, listOf } from './summary-template.ts';

/**
 * Deadline missed / missing required step: a run passed its deadline without its required
 * steps. Judged from the stitcher's run verdicts (which follow from events and the watermark
 * alone), naming the steps still missing. Resolves when the run completes late or is
 * compensated. A transient failure that was retried into success leaves a completed run, so
 * it never alerts here; one that was not shows as the missed deadline it caused.
 */

/** What the detector needs of a run: the stitcher's RunRecord has it all; the business key is optional. */
export type RunVerdict = Pick<
  RunRecord,
  'runId' | 'workflow' | 'correlationId' | 'state' | 'startedAt' | 'deadlineAt' | 'completedAt' | 'deadlineMissed' | 'missingSteps' | 'failedSteps' | 'lastEventAt' | 'version'
> & { businessKey?: string };

const PLACEHOLDERS = ['workflow', 'correlationId', 'businessKey', 'deadline', 'startedAt', 'missing', 'impact'] as const;
const DEFAULT_SUMMARY = '{workflow} {correlationId} missed its {deadline} deadline (started {startedAt}): {missing} — {impact}';

export const missedDeadlineSchema = z
  .object({
    name: detectorName,
    workflow: z.string().min(1),
    /** The workflow's owner when not given. */
    owner: z.string().min(1).optional(),
    severity: severity.default('error'),
    /** What a late run means for the customer; the workflow's description when not given. */
    impact: z.string().min(1).optional(),
    /** A run still late this long after its deadline is forgotten (resolved as such); a resolved one too. */
    forgetAfter: positiveDuration.default(7 * 86_400_000),
    summary: z.string().min(1).optional(),
    maxKeys: maxKeys.default(100_000),
  })
  .strict()
  .superRefine((c, ctx) => checkTemplate(c.summary, PLACEHOLDERS, ctx));

export type MissedDeadlineConfig = z.output<typeof missedDeadlineSchema>;

interface LateRun {
  /** The newest verdict seen. */
  verdict: RunVerdict;
  /** The deadline, while firing; undefined once resolved. */
  firingSince: number | undefined;
  /** Forgotten at this event time. */
  forgetAt: number;
}

export interface MissedDeadlineState {
  /** Only runs that missed their deadline: firing, or resolved and remembered so a stale verdict cannot fire again. */
  runs: Map<string, LateRun>;
  nextDueAt: number;
  counters: { stale: number; evicted: number; expired: number };
}

export function createMissedDeadlineDetector(config: MissedDeadlineConfig, definition: WorkflowDefinition): Detector<MissedDeadlineState, RunVerdict> {
  if (definition.name !== config.workflow) throw new Error(`missed deadline "${config.name}" is for workflow "${config.workflow}", got "${definition.name}"`);
  const owner = config.owner ?? definition.owner;
  const template = config.summary ?? DEFAULT_SUMMARY;
  const impact = config.impact ?? (definition.description ? `expected: ${definition.description}` : 'the customer is still waiting for it');

  const signal = (run: RunVerdict, kind: DetectorSignal['kind'], at: number, resolved?: { reason: string; prefix: string }): DetectorSignal => {
    const failed = new Set(run.failedSteps);
    const missing =
      run.missingSteps.length > 0
        ? `still missing ${listOf(run.missingSteps.map((s) => (failed.has(s) ? `${s} (failed)` : s)))}`
        : run.completedAt > 0
          ? run.completedAt > run.deadlineAt
            ? `its required steps came late (completed ${formatTime(run.completedAt)})`
            : `its required steps were done in time after all (completed ${formatTime(run.completedAt)})`
          : 'its required steps did not all happen';
    const values: Record<string, string> = {
      workflow: run.workflow,
      correlationId: run.correlationId,
      businessKey: run.businessKey ?? '',
      deadline: formatDuration(definition.deadline),
      startedAt: formatTime(run.startedAt),
      missing,
      impact,
    };
    return {
      kind,
      detector: config.name,
      key: run.runId,
      workflow: run.workflow,
      owner,
      severity: config.severity,
      summary: (resolved?.prefix ?? '') + fillTemplate(template, values),
      correlationId: run.correlationId,
      ...(run.businessKey !== undefined ? { businessKey: run.businessKey } : {}),
      at,
      details: {
        missingSteps: run.missingSteps.join(', '),
        failedSteps: run.failedSteps.join(', '),
        deadlineAt: run.deadlineAt,
        ...(resolved ? { reason: resolved.reason } : {}),
      },
    };
  };

  const resolvedBy = (run: RunVerdict, since: number): DetectorSignal | undefined => {
    if (run.state === 'completed') {
      const prefix = run.deadlineMissed ? `Resolved, completed late at ${formatTime(run.completedAt)}: ` : `Resolved, completed in time after all: `;
      return signal(run, 'resolved', Math.max(run.completedAt, since), { reason: 'completed', prefix });
    }
    if (run.state === 'compensated') {
      return signal(run, 'resolved', Math.max(run.lastEventAt, since), { reason: 'compensated', prefix: 'Resolved, compensated: ' });
    }
    return undefined;
  };

  return {
    name: config.name,
    initial: () => ({ runs: new Map(), nextDueAt: Number.POSITIVE_INFINITY, counters: { stale: 0, evicted: 0, expired: 0 } }),

    apply(state, run, watermark) {
      if (run.workflow !== config.workflow) return { state, signals: [] };
      const known = state.runs.get(run.runId);
      if (known && run.version <= known.verdict.version) {
        state.counters.stale++;
        return { state, signals: [] };
      }
      const signals: DetectorSignal[] = [];
      if (!known) {
        // A run never late needs no memory: only a missed deadline starts a story.
        if (!run.deadlineMissed) return { state, signals };
        const late: LateRun = { verdict: run, firingSince: run.deadlineAt, forgetAt: run.deadlineAt + config.forgetAfter };
        signals.push(signal(run, 'firing', run.deadlineAt));
        const resolved = resolvedBy(run, run.deadlineAt);
        if (resolved) {
          // Already over when first seen (a replay): both ends of the story, for the record.
          signals.push(resolved);
          late.firingSince = undefined;
          late.forgetAt = resolved.at + config.forgetAfter;
        }
        touch(state.runs, run.runId, late);
        state.nextDueAt = Math.min(state.nextDueAt, late.forgetAt);
      } else {
        known.verdict = run;
        if (known.firingSince !== undefined) {
          const resolved = resolvedBy(run, known.firingSince);
          if (resolved) {
            signals.push(resolved);
            known.firingSince = undefined;
            known.forgetAt = resolved.at + config.forgetAfter;
            state.nextDueAt = Math.min(state.nextDueAt, known.forgetAt);
          }
        }
        touch(state.runs, run.runId, known);
      }
      for (const [runId, evicted] of evictOver(state.runs, config.maxKeys)) {
        state.counters.evicted++;
        if (evicted.firingSince === undefined) continue;
        signals.push(forgotten(evicted, Math.max(watermark, evicted.firingSince), 'evicted'));
      }
      return { state, signals };
    },

    tick(state, watermark) {
      if (watermark < state.nextDueAt) return { state, signals: [] };
      const signals: DetectorSignal[] = [];
      let next = Number.POSITIVE_INFINITY;
      for (const [runId, late] of state.runs) {
        if (watermark >= late.forgetAt) {
          state.runs.delete(runId);
          state.counters.expired++;
          if (late.firingSince !== undefined) signals.push(forgotten(late, late.forgetAt, 'forgotten'));
        } else {
          next = Math.min(next, late.forgetAt);
        }
      }
      state.nextDueAt = next;
      return { state, signals: inEventTimeOrder(signals) };
    },

    size: (state) => state.runs.size,
    counters: (state) => state.counters,
  };

  /** A late run given up on: resolved, saying why, so that nothing stays firing forever. */
  function forgotten(late: LateRun, at: number, reason: 'forgotten' | 'evicted'): DetectorSignal {
    const why = reason === 'forgotten' ? `still late ${formatDuration(config.forgetAfter)} after its deadline` : `more than ${config.maxKeys} late runs held`;
    return signal(late.verdict, 'resolved', at, { reason, prefix: `No longer watched (${why}): ` });
  }
}
