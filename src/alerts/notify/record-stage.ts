import type { Alert } from '../types.ts';
import type { NotificationLog } from './notification-log.ts';
import type { NotifyContext, NotifyStage, StageResult } from './stage.ts';

/**
 * Writes what the receiver accepted into the notification log (Alertmanager's SetNotifiesStage).
 * A trigger the receiver refused is noted as told, so the same body is not sent again at every
 * flush, but not as open: no resolve is owed for a page that never opened.
 */
export class RecordStage implements NotifyStage {
  readonly name = 'record';
  private readonly log: NotificationLog;

  constructor(log: NotificationLog) {
    this.log = log;
  }

  exec(ctx: NotifyContext, alerts: readonly Alert[]): StageResult {
    const refusedTriggers = new Set((ctx.delivery?.refused ?? []).filter((r) => r.alert.state === 'firing').map((r) => r.alert.fingerprint));
    const firing = alerts.filter((a) => a.state === 'firing' && !refusedTriggers.has(a.fingerprint)).map((a) => a.fingerprint);
    const resolved = alerts.filter((a) => a.state === 'resolved').map((a) => a.fingerprint);
    // Alerts covered by a storm incident the receiver took are told (no trigger of their own, and no resolve owed).
    const delivered = new Set(alerts.filter((a) => a.state === 'firing' && !refusedTriggers.has(a.fingerprint)).map((a) => a.fingerprint));
    const covered = Object.entries(ctx.storm ?? {}).flatMap(([storm, fingerprints]) => (delivered.has(storm) || this.log.isOpen(ctx.receiver, storm) ? fingerprints : []));
    const refused = [...refusedTriggers, ...covered];
    this.log.record(ctx.receiver, ctx.groupKey, { firing, resolved, ...(refused.length > 0 ? { refused } : {}) }, ctx.now);
    return { ctx, alerts };
  }
}
