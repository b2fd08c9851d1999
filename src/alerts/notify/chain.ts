import type { Alert } from '../types.ts';
import type { GroupFlush } from '../routing/grouping.ts';
import type { NotifyContext, NotifyStage } from './stage.ts';

export interface ChainResult {
  ctx: NotifyContext;
  /** What the last stage that ran passed on: after a full run, what the receiver took. */
  alerts: readonly Alert[];
  /** The stage that left no alerts, when the chain stopped early. */
  stoppedAt?: string;
  /** Each stage's note, by stage name ("inhibit": "1 inhibited"). */
  notes: Record<string, string>;
}

/**
 * Runs the stages in order (Alertmanager's MultiStage): each gets what the previous one passed
 * on, and the chain ends as soon as a stage passes on nothing. A stage that throws fails the
 * whole notification; the receiver stage reports delivery failures instead of throwing.
 */
export async function runChain(stages: readonly NotifyStage[], ctx: NotifyContext, alerts: readonly Alert[]): Promise<ChainResult> {
  const notes: Record<string, string> = {};
  let current = { ctx, alerts };
  for (const stage of stages) {
    if (current.alerts.length === 0) break;
    const result = await stage.exec(current.ctx, current.alerts);
    if (result.note !== undefined) notes[stage.name] = result.note;
    current = { ctx: result.ctx, alerts: result.alerts };
    if (result.alerts.length === 0) return { ctx: result.ctx, alerts: [], stoppedAt: stage.name, notes };
  }
  return { ...current, notes };
}

/** The context for one group flush, read at the flush's time. */
export function contextForFlush(flush: GroupFlush, now: number): NotifyContext {
  const { options } = flush.route;
  return {
    now,
    groupKey: flush.groupKey,
    groupLabels: flush.groupLabels,
    receiver: flush.receiver,
    repeatIntervalMs: options.repeatIntervalMs,
    muteTimeIntervals: options.muteTimeIntervals,
    activeTimeIntervals: options.activeTimeIntervals,
    flushReason: flush.reason,
  };
}

/** Runs one flush of the dispatcher through the chain. */
export function notifyFlush(stages: readonly NotifyStage[], flush: GroupFlush, now: number): Promise<ChainResult> {
  return runChain(stages, contextForFlush(flush, now), flush.alerts);
}
