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

/**
 * What a receiver could not deliver, each with why: `failed` may succeed later (sent again at
 * the next flush); `refused` never will (a 400 or another 4xx: the receiver rejected the body),
 * so it is not sent again, and no resolve is owed for it.
 */
export interface DeliveryReport {
  failed: readonly { fingerprint: string; reason: string }[];
  refused?: readonly { fingerprint: string; reason: string }[];
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
  refused: readonly { alert: Alert; reason: string }[];
}
