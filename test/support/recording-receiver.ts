import type { DeliveryReport, Notification } from '../../src/alerts/notify/receiver.ts';
import type { ManagedReceiver } from '../../src/alerts/receivers/managed-receiver.ts';

/** A receiver named `pager` that takes every notification and keeps the fingerprints of the firing alerts it was sent. */
export class PagedRecorder implements ManagedReceiver {
  readonly name = 'pager';
  readonly paged: string[] = [];
  async start() {}
  async shutdown() {}
  async notify(n: Notification): Promise<DeliveryReport> {
    this.paged.push(...n.firing.map((a) => a.fingerprint));
    return { failed: [] };
  }
}
