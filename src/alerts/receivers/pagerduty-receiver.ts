import type { Alert } from '../types.ts';
import type { DeliveryReport, Notification } from '../notify/receiver.ts';
import type { PagerDutyNotifier } from '../pagerduty/notifier.ts';
import type { DeliveryResult } from '../pagerduty/delivery-result.ts';
import type { ManagedReceiver } from './managed-receiver.ts';
import { isStormAlert } from '../notify/storm.ts';

/**
 * The notify chain's view of PagerDuty: one trigger per newly firing alert and one resolve per
 * resolved alert, each with the alert's fingerprint as dedup key. A delivery that may succeed
 * later (the retry deadline passed, the queue was full, shutting down) is reported failed, so
 * the next flush sends it again; one PagerDuty rejected is not (the notifier logged and counted
 * it, and sending it again would be rejected again).
 */
export class PagerDutyReceiver implements ManagedReceiver {
  readonly name: string;
  private readonly notifier: PagerDutyNotifier;
  private readonly routingKey: string;
  private readonly isOpen: (receiver: string, fingerprint: string) => boolean;

  /**
   * `isOpen` says whether this receiver already triggered an alert and has not resolved it (the
   * notification log knows, across restarts): a group flush hands over every firing alert of the
   * group, but PagerDuty needs a trigger only for the new ones.
   */
  constructor(name: string, notifier: PagerDutyNotifier, routingKey: string, isOpen: (receiver: string, fingerprint: string) => boolean = () => false) {
    this.name = name;
    this.notifier = notifier;
    this.routingKey = routingKey;
    this.isOpen = isOpen;
  }

  start(): Promise<void> {
    return this.notifier.start();
  }

  shutdown(): Promise<void> {
    return this.notifier.shutdown();
  }

  async notify(notification: Notification): Promise<DeliveryReport> {
    const send = (alert: Alert, action: 'trigger' | 'resolve') =>
      this.notifier.send(alert, action, { routingKey: this.routingKey, team: alert.labels['team'] ?? this.name });
    const results: DeliveryResult[] = await Promise.all([
      // A storm incident is triggered again whenever it is handed over (an alert joined it): same dedup_key, PagerDuty updates it.
      ...notification.firing.filter((alert) => isStormAlert(alert) || !this.isOpen(this.name, alert.fingerprint)).map((alert) => send(alert, 'trigger')),
      ...notification.resolved.map((alert) => send(alert, 'resolve')),
    ]);
    return {
      failed: results.flatMap((r) => (r.status === 'failure' && r.retryLater ? [{ fingerprint: r.dedupKey, reason: `PagerDuty ${r.action}: ${r.reason}` }] : [])),
      refused: results.flatMap((r) => (r.status === 'failure' && !r.retryLater ? [{ fingerprint: r.dedupKey, reason: `PagerDuty ${r.action}: ${r.reason}` }] : [])),
    };
  }
}
