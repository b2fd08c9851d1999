import type { Alert } from '../types.ts';
import type { Labels } from '../routing/labels.ts';
import type { SendReason } from './dedup.ts';

/** One notification to one receiver: a group's firing alerts and the resolves it is owed. */
export interface Notification {
  receiver: string;
  groupKey: string;
  groupLabels: Labels;
  firing: readonly Alert[];
  resolved: readonly Alert[];
  reason: SendReason;
  at: number;
}

/** Alerts a receiver could not deliver (after its own retries), each with why. */
export interface DeliveryReport {
  failed: readonly { fingerprint: string; reason: string }[];
}

/**
 * A receiver (PagerDuty, webhook) as the chain sees it. Resolves when the receiver is done with
 * the notification; every alert not listed in `failed` counts as delivered. Should not reject:
 * a rejection counts as every alert failed.
 */
export interface Receiver {
  readonly name: string;
  notify(notification: Notification): Promise<DeliveryReport>;
}

/** What the receiver stage leaves in the context. */
export interface DeliveryOutcome {
  delivered: readonly Alert[];
  failed: readonly { alert: Alert; reason: string }[];
}
