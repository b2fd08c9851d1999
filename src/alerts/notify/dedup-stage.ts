import type { Alert } from '../types.ts';
import { decideDedup } from './dedup.ts';
import type { NotificationLogView } from './notification-log.ts';
import type { NotifyContext, NotifyStage, StageResult } from './stage.ts';

/**
 * Decides from the notification log whether the receiver needs this notification (see
 * dedup.ts). When it does, passes on the firing alerts and the resolves the receiver is owed;
 * resolved alerts it never heard of are left out.
 */
export class DedupStage implements NotifyStage {
  readonly name = 'dedup';
  private readonly log: NotificationLogView;

  constructor(log: NotificationLogView) {
    this.log = log;
  }

  exec(ctx: NotifyContext, alerts: readonly Alert[]): StageResult {
    const firing = alerts.filter((a) => a.state === 'firing');
    const owed = alerts.filter((a) => a.state === 'resolved' && this.log.isOpen(ctx.receiver, a.fingerprint));
    // Alerts a storm incident covers are part of what the receiver is told: one joining re-triggers it.
    const covered = Object.values(ctx.storm ?? {}).flat();
    const dedup = decideDedup({
      entry: this.log.entry(ctx.receiver, ctx.groupKey),
      firing: new Set([...firing.map((a) => a.fingerprint), ...covered]),
      owed: new Set(owed.map((a) => a.fingerprint)),
      repeatIntervalMs: ctx.repeatIntervalMs,
      now: ctx.now,
    });
    if (!dedup.send) return { ctx: { ...ctx, dedup }, alerts: [], note: dedup.reason };
    return { ctx: { ...ctx, dedup }, alerts: [...firing, ...owed], note: dedup.reason };
  }
}
