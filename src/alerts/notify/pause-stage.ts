import type { PagingPause } from '../../domain/controls.ts';
import { isPaused } from '../pauses/pause.ts';
import type { Alert } from '../types.ts';
import { holdBackFiring } from './mute.ts';
import type { NotifyContext, NotifyStage, StageResult } from './stage.ts';

/**
 * The operator's kill switch: holds back firing alerts of a paused team or workflow. First in
 * the chain, so a held trigger is counted as `paused`, not as silenced or inhibited. Like the
 * other muting stages it never holds a resolve: one owed for an earlier page still goes out.
 * A held trigger is not in the notification log, so once the pause ends, an alert still firing
 * is paged at its group's next flush; one that resolved meanwhile is never paged.
 */
export class PauseStage implements NotifyStage {
  readonly name = 'pause';
  private readonly pauses: () => readonly PagingPause[];

  constructor(pauses: () => readonly PagingPause[]) {
    this.pauses = pauses;
  }

  exec(ctx: NotifyContext, alerts: readonly Alert[]): StageResult {
    const pauses = this.pauses();
    if (pauses.length === 0) return { ctx, alerts };
    const result = holdBackFiring(ctx, alerts, (a) => isPaused(pauses, a.labels, ctx.now), 'paused');
    const paused = alerts.length - result.alerts.length;
    // Counted as paused only, not also as muted (holdBackFiring counts what it holds as muted).
    return paused > 0 ? { ...result, ctx: { ...result.ctx, muted: ctx.muted ?? 0, paused } } : result;
  }
}
