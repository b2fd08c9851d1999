import type { Alert } from '../types.ts';
import type { NotifyContext, StageResult } from './stage.ts';

/**
 * What the muting stages (inhibit, silence, maintenance) share: they hold back firing alerts
 * only. A resolved alert always passes, because it may be owed to a receiver that was paged
 * before the silence or inhibition began; the dedup stage decides whether it is.
 */
export function holdBackFiring(ctx: NotifyContext, alerts: readonly Alert[], muted: (alert: Alert) => boolean, verb: string): StageResult {
  const kept = alerts.filter((a) => a.state === 'resolved' || !muted(a));
  const held = alerts.length - kept.length;
  return held > 0 ? { ctx: { ...ctx, muted: (ctx.muted ?? 0) + held }, alerts: kept, note: `${held} ${verb}` } : { ctx, alerts: kept };
}
