import type { PagerDutyAction } from './event.ts';

/** Where an event goes: the team's integration key (a secret) and the team's name (for logs). */
export interface PagerDutyTarget {
  routingKey: string;
  team: string;
}

interface Identity {
  action: PagerDutyAction;
  dedupKey: string;
}

/**
 * How a send() ended. Failures say whether sending the same event again later can help
 * (`retryLater`): never for an event PagerDuty rejects, yes for one that was not delivered.
 */
export type DeliveryResult =
  | (Identity & { status: 'success'; attempts: number })
  /** Checked before sending: PagerDuty would answer 400. Nothing was sent. */
  | (Identity & { status: 'failure'; reason: 'invalid'; retryLater: false; errors: string[] })
  /** PagerDuty answered 400 (or another 4xx): bad data, never retried. */
  | (Identity & { status: 'failure'; reason: 'rejected'; retryLater: false; attempts: number; httpStatus: number; message: string; errors: string[] })
  /** Still 429/5xx/network errors at the retry deadline. */
  | (Identity & { status: 'failure'; reason: 'gave-up'; retryLater: true; attempts: number; lastError: string })
  /** Abandoned when shutdown ran out of time. */
  | (Identity & { status: 'failure'; reason: 'shut-down'; retryLater: true; attempts: number; lastError?: string })
  /** The queue was full: not taken. */
  | (Identity & { status: 'failure'; reason: 'queue-full'; retryLater: true })
  /** send() before start() or after shutdown(): not taken. */
  | (Identity & { status: 'failure'; reason: 'not-running'; retryLater: true });

export type DeliveryFailureReason = Extract<DeliveryResult, { status: 'failure' }>['reason'];
