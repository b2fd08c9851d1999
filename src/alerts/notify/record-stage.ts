import type { Alert } from '../types.ts';
import type { NotificationLog } from './notification-log.ts';
import type { NotifyContext, NotifyStage, StageResult } from './stage.ts';

/** Writes what the receiver accepted into the notification log (Alertmanager's SetNotifiesStage). */
export class RecordStage implements NotifyStage {
  readonly name = 'record';
  private readonly log: NotificationLog;

  constructor(log: NotificationLog) {
    this.log = log;
  }

  exec(ctx: NotifyContext, alerts: readonly Alert[]): StageResult {
    const firing = alerts.filter((a) => a.state === 'firing').map((a) => a.fingerprint);
    const resolved = alerts.filter((a) => a.state === 'resolved').map((a) => a.fingerprint);
    this.log.record(ctx.receiver, ctx.groupKey, { firing, resolved }, ctx.now);
    return { ctx, alerts };
  }
}
