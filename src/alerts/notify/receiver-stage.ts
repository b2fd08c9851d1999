import type { Alert } from '../types.ts';
import type { DeliveryOutcome, Receiver } from './receiver.ts';
import type { NotifyContext, NotifyStage, StageResult } from './stage.ts';

/**
 * Hands the notification to the route's receiver and passes on what it delivered, for the
 * record stage. What failed is not recorded, so the next flush tries a failed trigger again;
 * a failed resolve must be given back to its group (routing/grouping.ts requeueUndelivered).
 */
export class ReceiverStage implements NotifyStage {
  readonly name = 'receiver';
  private readonly receivers: ReadonlyMap<string, Receiver>;

  constructor(receivers: readonly Receiver[]) {
    this.receivers = new Map(receivers.map((r) => [r.name, r]));
  }

  async exec(ctx: NotifyContext, alerts: readonly Alert[]): Promise<StageResult> {
    const receiver = this.receivers.get(ctx.receiver);
    const reason = ctx.dedup?.send ? ctx.dedup.reason : undefined;
    let failed: Map<string, string>;
    let refused = new Map<string, string>();
    if (!receiver) {
      failed = new Map(alerts.map((a) => [a.fingerprint, `no receiver "${ctx.receiver}"`]));
    } else if (reason === undefined) {
      throw new Error('the receiver stage runs after the dedup stage');
    } else {
      try {
        const report = await receiver.notify({
          receiver: ctx.receiver,
          groupKey: ctx.groupKey,
          groupLabels: ctx.groupLabels,
          firing: alerts.filter((a) => a.state === 'firing'),
          resolved: alerts.filter((a) => a.state === 'resolved'),
          reason,
          at: ctx.now,
        });
        failed = new Map(report.failed.map((f) => [f.fingerprint, f.reason]));
        refused = new Map((report.refused ?? []).map((f) => [f.fingerprint, f.reason]));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failed = new Map(alerts.map((a) => [a.fingerprint, message]));
      }
    }
    const notDelivered = (a: Alert) => failed.has(a.fingerprint) || refused.has(a.fingerprint);
    const listed = (reasons: Map<string, string>) => alerts.flatMap((alert) => (reasons.has(alert.fingerprint) ? [{ alert, reason: reasons.get(alert.fingerprint)! }] : []));
    const delivery: DeliveryOutcome = { delivered: alerts.filter((a) => !notDelivered(a)), failed: listed(failed), refused: listed(refused) };
    const missed = delivery.failed.length + delivery.refused.length;
    const note = missed > 0 ? `${missed} not delivered` : undefined;
    // Refused alerts go on to the record stage too: told (never sent again as they are), not opened.
    const told = [...delivery.delivered, ...delivery.refused.map((r) => r.alert)];
    return { ctx: { ...ctx, delivery }, alerts: told, ...(note ? { note } : {}) };
  }
}
