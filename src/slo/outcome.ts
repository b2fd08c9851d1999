import type { SloOutcomeRecord } from '../domain/records.ts';
import type { RunJudge } from '../stitch/judge.ts';
import type { WorkflowRun } from '../stitch/run.ts';
import type { SloDefinition } from './types.ts';

/**
 * Whether one run is good or bad for one SLO, and the event time it counts at (its due time).
 * Pure. Every run counts once per SLO, at a due time that does not depend on when it is
 * judged, so live and replayed streams count the same. A run still unfinished when its due
 * time has passed (plus the allowed lateness) counts as bad from then on: it never silently
 * drops out of the denominator.
 */
export type SloVerdict =
  | { kind: 'counted'; due: number; good: boolean }
  /** Not decided yet; decided at the latest when the watermark reaches `decideAt`. */
  | { kind: 'pending'; decideAt: number }
  /** This run does not count for this SLO (a step-latency SLO whose first step never happened). */
  | { kind: 'not-counted' };

function doneAt(run: WorkflowRun, step: string): number | undefined {
  const outcome = run.outcomes.get(step);
  return outcome?.status === 'done' ? outcome.time : undefined;
}

export function sloVerdict(run: WorkflowRun, slo: SloDefinition, watermark: number, allowedLateness: number): SloVerdict {
  const indicator = slo.indicator;
  switch (indicator.kind) {
    case 'completed-within': {
      const due = run.startedAt + indicator.thresholdMs;
      let reached = Number.NEGATIVE_INFINITY;
      for (const step of indicator.steps) {
        const at = doneAt(run, step);
        if (at === undefined) {
          reached = Number.POSITIVE_INFINITY;
          break;
        }
        reached = Math.max(reached, at);
      }
      if (reached <= due) return { kind: 'counted', due, good: true };
      if (reached !== Number.POSITIVE_INFINITY || watermark >= due + allowedLateness) return { kind: 'counted', due, good: false };
      return { kind: 'pending', decideAt: due + allowedLateness };
    }
    case 'success-ratio': {
      const due = run.startedAt + run.definition.deadline;
      if (run.state === 'completed') return { kind: 'counted', due, good: true };
      if (run.state === 'compensated') return { kind: 'counted', due, good: false };
      if (watermark >= due + allowedLateness) return { kind: 'counted', due, good: false };
      return { kind: 'pending', decideAt: due + allowedLateness };
    }
    case 'step-latency': {
      const from = doneAt(run, indicator.from);
      if (from === undefined) {
        // Counted only once the first step happened; a run that ends without it never is.
        return { kind: 'not-counted' };
      }
      const due = from + indicator.thresholdMs;
      const to = doneAt(run, indicator.to);
      if (to !== undefined) return { kind: 'counted', due, good: to - from <= indicator.thresholdMs };
      if (watermark >= due + allowedLateness) return { kind: 'counted', due, good: false };
      return { kind: 'pending', decideAt: due + allowedLateness };
    }
  }
}

/**
 * Judges every SLO of a run: appends the verdicts that are new or changed since they were last
 * handed out (remembered on the run), and returns the earliest watermark at which a pending one
 * is decided.
 */
export function judgeRunSlos(run: WorkflowRun, slos: readonly SloDefinition[], watermark: number, allowedLateness: number, out: SloOutcomeRecord[]): number {
  let decideAt = Number.POSITIVE_INFINITY;
  for (const slo of slos) {
    const verdict = sloVerdict(run, slo, watermark, allowedLateness);
    if (verdict.kind === 'pending') decideAt = Math.min(decideAt, verdict.decideAt);
    if (verdict.kind !== 'counted') continue;
    const signature = `${verdict.due}|${verdict.good}`;
    if (run.emittedSlo?.get(slo.name) === signature) continue;
    (run.emittedSlo ??= new Map()).set(slo.name, signature);
    out.push({ slo: slo.name, workflow: run.definition.name, runId: run.runId, correlationId: run.correlationId, due: verdict.due, good: verdict.good, version: run.version });
  }
  return decideAt;
}

/** The stitcher's judge of SLO verdicts: each run against the SLOs of its workflow. */
export class SloJudge implements RunJudge {
  private readonly byWorkflow = new Map<string, SloDefinition[]>();
  private readonly allowedLateness: number;

  constructor(slos: readonly SloDefinition[], allowedLateness: number) {
    this.allowedLateness = allowedLateness;
    for (const slo of slos) {
      const list = this.byWorkflow.get(slo.workflow);
      if (list) list.push(slo);
      else this.byWorkflow.set(slo.workflow, [slo]);
    }
  }

  judge(run: WorkflowRun, watermark: number, out: SloOutcomeRecord[]): number {
    const slos = this.byWorkflow.get(run.definition.name);
    return slos ? judgeRunSlos(run, slos, watermark, this.allowedLateness, out) : Number.POSITIVE_INFINITY;
  }
}
