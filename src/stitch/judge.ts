import type { SloOutcomeRecord } from '../domain/records.ts';
import type { WorkflowRun } from './run.ts';

/**
 * Judges what a changed run counts for beyond its own state (its SLO verdicts). The stitcher
 * asks it about every run that changed or came due, and keeps a run in memory while a verdict
 * is pending; the pipeline plugs the SLO judge in, so the run state machine knows no SLOs.
 */
export interface RunJudge {
  /** Appends verdicts new or changed since last asked; returns the watermark at which to ask again (Infinity: none pending). */
  judge(run: WorkflowRun, watermark: number, out: SloOutcomeRecord[]): number;
}

/** Judges nothing: a stitcher on its own hands out runs, spans and events only. */
export const NO_JUDGE: RunJudge = { judge: () => Number.POSITIVE_INFINITY };
