/** Receivers the notify chain hands notifications to: PagerDuty and Alertmanager-style webhooks. */
export { receiversSchema, receiverSchema, receiverSecretProblems, resolveReceivers, stormOptions, type ReceiverConfig, type ResolvedReceiver } from './config.ts';
export { buildReceivers, type ReceiverDependencies } from './build.ts';
export type { ManagedReceiver } from './managed-receiver.ts';
export { PagerDutyReceiver } from './pagerduty-receiver.ts';
export { WebhookReceiver, type WebhookReceiverOptions } from './webhook-receiver.ts';
export { toWebhookPayload, type WebhookAlert, type WebhookPayload } from './webhook-payload.ts';
