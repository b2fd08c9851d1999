/** The PagerDuty Events API v2 receiver: what the alert lifecycle and the app wire up. */
export { PagerDutyNotifier, routingKeyHash, type NotifierState } from './notifier.ts';
export type { PagerDutyNotifierOptions } from './options.ts';
export { PagerDutyOptionsError } from './options-error.ts';
export type { DeliveryResult, DeliveryFailureReason, PagerDutyTarget } from './delivery-result.ts';
export { toPagerDutyEvent, truncateSummary, ANNOTATION, LABEL, type PagerDutyAction, type PagerDutyEvent, type EventMapping } from './event.ts';
export { DEFAULT_ENDPOINT } from './transport.ts';
export type { Clock } from './clock.ts';
