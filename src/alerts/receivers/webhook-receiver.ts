import type { Logger } from 'pino';
import { FailureLog, retry, type RetryOptions } from '../../base/retry.ts';
import type { DeliveryReport, Notification } from '../notify/receiver.ts';
import type { ManagedReceiver } from './managed-receiver.ts';
import { toWebhookPayload } from './webhook-payload.ts';

export interface WebhookReceiverOptions {
  name: string;
  url: string;
  /** seamwatch's address as people reach it: the payload's `externalURL`. */
  externalUrl: string;
  logger: Logger;
  /** One request, ms. Default 10 s. */
  requestTimeoutMs?: number;
  /** Backoff and the deadline after which a notification counts as not delivered. Defaults: 500 ms doubling to 10 s, within 60 s. */
  retry?: Partial<Pick<RetryOptions, 'baseMs' | 'maxMs' | 'deadlineMs'>>;
}

/** Why one post failed, and whether another try can help (5xx, 429, network, timeout). */
class WebhookPostError extends Error {
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean) {
    super(message);
    this.name = 'WebhookPostError';
    this.retryable = retryable;
  }
}

/**
 * Posts each notification in Alertmanager's webhook shape. Retries 5xx, 429 and network errors
 * with backoff and jitter within a deadline; past it, every alert of the notification is
 * reported failed so the next flush sends it again. Any other 4xx is the receiver refusing the
 * body: not retried, and reported refused (logged and counted by the dispatcher; it would be
 * refused again, and no resolve is owed for it).
 */
export class WebhookReceiver implements ManagedReceiver {
  readonly name: string;
  private readonly options: WebhookReceiverOptions;
  private readonly logger: Logger;
  /** Aborted by shutdown: ends requests and backoff waits in flight. */
  private readonly abandon = new AbortController();

  constructor(options: WebhookReceiverOptions) {
    this.name = options.name;
    this.options = options;
    this.logger = options.logger.child({ receiver: options.name });
  }

  async start(): Promise<void> {}

  async shutdown(): Promise<void> {
    this.abandon.abort();
  }

  async notify(notification: Notification): Promise<DeliveryReport> {
    const alerts = [...notification.firing, ...notification.resolved];
    const body = JSON.stringify(toWebhookPayload(notification, this.options.externalUrl));
    const context = { groupKey: notification.groupKey, firing: notification.firing.length, resolved: notification.resolved.length };
    const failures = new FailureLog((_error, attempt, waitMs, reason) => this.logger.warn({ ...context, reason, attempt, waitMs }, 'webhook delivery failed: retrying'));
    try {
      await retry(() => this.post(body), {
        baseMs: this.options.retry?.baseMs ?? 500,
        maxMs: this.options.retry?.maxMs ?? 10_000,
        deadlineMs: this.options.retry?.deadlineMs ?? 60_000,
        isRetryable: (error) => error instanceof WebhookPostError && error.retryable,
        signal: this.abandon.signal,
        onRetry: failures.onRetry,
      });
      return { failed: [] };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (this.abandon.signal.aborted) return { failed: alerts.map((a) => ({ fingerprint: a.fingerprint, reason: 'webhook: abandoned at shutdown' })) };
      if (error instanceof WebhookPostError && !error.retryable) {
        // Refused, not delivered: recorded as such (and counted), never sent again as it is.
        return { failed: [], refused: alerts.map((a) => ({ fingerprint: a.fingerprint, reason: `webhook: ${reason}` })) };
      }
      this.logger.error({ ...context, reason }, 'webhook delivery gave up: the next flush tries again');
      return { failed: alerts.map((a) => ({ fingerprint: a.fingerprint, reason: `webhook: ${reason}` })) };
    }
  }

  private async post(body: string): Promise<void> {
    if (this.abandon.signal.aborted) throw new WebhookPostError('receiver shut down', false);
    const signal = AbortSignal.any([this.abandon.signal, AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000)]);
    let response: Response;
    try {
      response = await fetch(this.options.url, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'seamwatch' }, body, signal });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new WebhookPostError(`network: ${cause ?? (error as Error).message}`, !this.abandon.signal.aborted);
    }
    // The body is not needed, but reading it lets the connection be reused.
    await response.arrayBuffer().catch(() => undefined);
    if (response.ok) return;
    const retryable = response.status === 429 || response.status >= 500;
    throw new WebhookPostError(`HTTP ${response.status}`, retryable);
  }
}
