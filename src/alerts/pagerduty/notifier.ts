import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Alert } from '../types.ts';
import type { DeliveryResult, PagerDutyTarget } from './delivery-result.ts';
import { toPagerDutyEvent, type PagerDutyAction, type PagerDutyEvent } from './event.ts';
import { KeyOrderedQueue } from './key-ordered-queue.ts';
import { PagerDutyMetrics } from './metrics.ts';
import { compileNotifierOptions, type CompiledNotifierOptions, type PagerDutyNotifierOptions } from './options.ts';
import type { RetryableAttempt } from './response.ts';
import { deliverWithRetries, type DeliveryOutcome } from './retrying-delivery.ts';
import { postEvent } from './transport.ts';

export type NotifierState = 'initialized' | 'running' | 'stopping' | 'stopped';

interface QueuedEvent {
  /** The dedup key: events of one key are delivered one at a time, in order. */
  key: string;
  event: PagerDutyEvent;
  action: PagerDutyAction;
  target: PagerDutyTarget;
  enqueuedAt: number;
  deadline: number;
  settle: (result: DeliveryResult) => void;
}

/**
 * The PagerDuty Events API v2 receiver: a bounded queue in front of retried HTTP deliveries.
 * Lifecycle: INITIALIZED → RUNNING → STOPPING → STOPPED. `send()` is taken only while running;
 * `shutdown()` stops intake, delivers what is queued and abandons the rest at its deadline.
 * Routing keys are secrets: logs carry the team and a short hash of the key.
 */
export class PagerDutyNotifier {
  private readonly options: CompiledNotifierOptions;
  private readonly logger: Logger;
  private readonly metrics: PagerDutyMetrics;
  private readonly queue: KeyOrderedQueue<QueuedEvent>;
  /** Aborted when shutdown runs out of time: ends in-flight requests and backoff waits. */
  private readonly abandon = new AbortController();
  private current: NotifierState = 'initialized';
  private stopping: Promise<void> | undefined;
  private idleWaiters: (() => void)[] = [];
  private refusedWhileFull = 0;
  private refusedWhileStopped = 0;
  private lastRetryReason: string | undefined;
  private readonly drained = { delivered: 0, abandoned: 0 };

  constructor(options: PagerDutyNotifierOptions) {
    this.options = compileNotifierOptions(options);
    this.logger = this.options.logger.child({ component: 'pagerduty' });
    this.metrics = new PagerDutyMetrics(this.options.registry);
    this.queue = new KeyOrderedQueue(this.options.queueSize);
  }

  get state(): NotifierState {
    return this.current;
  }

  /** Events waiting or in delivery. */
  get queued(): number {
    return this.queue.held;
  }

  /** Returns at once: there is nothing to connect to before the first event. */
  async start(): Promise<void> {
    if (this.current === 'running') return;
    if (this.current !== 'initialized') throw new Error('PagerDuty notifier cannot start after shutdown');
    this.current = 'running';
    const { url, queueSize, concurrency, retry } = this.options;
    this.logger.info({ url, queueSize, concurrency, retryDeadlineMs: retry.deadlineMs }, 'PagerDuty notifier started');
  }

  /**
   * Maps, checks and queues one event. Resolves when its delivery ended, never rejects: at once for
   * an invalid event, a full queue or a notifier that is not running, else after PagerDuty's 202,
   * a permanent rejection, the retry deadline or the shutdown deadline.
   */
  send(alert: Alert, action: PagerDutyAction, target: PagerDutyTarget): Promise<DeliveryResult> {
    const identity = { action, dedupKey: alert.fingerprint };
    if (this.current !== 'running') {
      this.metrics.count(action, 'gave-up');
      if (this.refusedWhileStopped++ === 0) this.logger.warn({ state: this.current, ...this.context(target, identity) }, 'PagerDuty notifier not running: refusing events');
      return Promise.resolve({ status: 'failure', reason: 'not-running', retryLater: true, ...identity });
    }
    const { source, clientUrl } = this.options;
    const mapping = toPagerDutyEvent(alert, action, { routingKey: target.routingKey, source, ...(clientUrl ? { clientUrl } : {}) });
    if (mapping.kind === 'invalid') {
      this.metrics.count(action, 'rejected');
      this.logger.error({ ...this.context(target, identity), errors: mapping.errors }, 'PagerDuty event invalid: not sent');
      return Promise.resolve({ status: 'failure', reason: 'invalid', retryLater: false, errors: mapping.errors, ...identity });
    }
    const now = this.options.clock.now();
    return new Promise<DeliveryResult>((settle) => {
      const item: QueuedEvent = { key: identity.dedupKey, event: mapping.event, action, target, enqueuedAt: now, deadline: now + this.options.retry.deadlineMs, settle };
      if (!this.queue.offer(item)) {
        this.metrics.count(action, 'queue-full');
        if (this.refusedWhileFull++ === 0) this.logger.warn({ queueSize: this.options.queueSize }, 'PagerDuty queue full: refusing events');
        settle({ status: 'failure', reason: 'queue-full', retryLater: true, ...identity });
        return;
      }
      if (this.refusedWhileFull > 0) {
        this.logger.info({ refused: this.refusedWhileFull }, 'PagerDuty queue accepting events again');
        this.refusedWhileFull = 0;
      }
      this.metrics.queued.set(this.queue.held);
      this.pump();
    });
  }

  /** Safe to call twice and before start(); resolves once every queued event has ended. */
  shutdown(): Promise<void> {
    this.stopping ??= this.stop();
    return this.stopping;
  }

  private async stop(): Promise<void> {
    const was = this.current;
    this.current = 'stopping';
    if (was === 'initialized') {
      this.current = 'stopped';
      return;
    }
    const pending = this.queue.held;
    const started = this.options.clock.now();
    const deadline = new AbortController();
    void this.options.clock.sleep(this.options.shutdownTimeoutMs, deadline.signal).then(() => {
      if (!deadline.signal.aborted) this.abandon.abort();
    });
    await this.idle();
    deadline.abort();
    this.current = 'stopped';
    const elapsedMs = this.options.clock.now() - started;
    this.logger.info({ pending, ...this.drained, elapsedMs, refused: this.refusedWhileStopped }, 'PagerDuty notifier stopped');
  }

  private idle(): Promise<void> {
    if (this.queue.held === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.queue.active < this.options.concurrency) {
      const item = this.queue.take();
      if (!item) return;
      void this.deliver(item);
    }
  }

  private async deliver(item: QueuedEvent): Promise<void> {
    const { url, requestTimeoutMs, retry, clock, random } = this.options;
    let outcome: DeliveryOutcome;
    try {
      outcome = await deliverWithRetries(
        async (_attempt, timeoutMs) => {
          const endTimer = this.metrics.requestSeconds.startTimer({ action: item.action });
          try {
            return await postEvent(url, item.event, timeoutMs, this.abandon.signal, () => clock.now());
          } finally {
            endTimer();
          }
        },
        { deadline: item.deadline, requestTimeoutMs, policy: retry, clock, random, signal: this.abandon.signal, onRetry: (result, attempt, waitMs) => this.retrying(item, result, attempt, waitMs) },
      );
    } catch (error) {
      // Only an injected clock could throw; the event still ends with a result.
      outcome = { status: 'failure', reason: 'gave-up', attempts: 0, last: { status: 'retryable', reason: 'network', detail: String(error) } };
    }
    this.queue.release(item);
    this.metrics.queued.set(this.queue.held);
    try {
      item.settle(this.finish(item, outcome));
    } finally {
      // Whatever reporting did, the next event goes and a waiting shutdown hears about it.
      this.pump();
      if (this.queue.held === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Logs a retry only when the kind of error changes, not once per event. */
  private retrying(item: QueuedEvent, result: RetryableAttempt, attempt: number, waitMs: number): void {
    this.metrics.count(item.action, 'retried');
    const reason = `${result.reason}: ${result.detail}`;
    if (reason === this.lastRetryReason) return;
    this.lastRetryReason = reason;
    this.logger.warn({ ...this.context(item.target, { action: item.action, dedupKey: item.key }), reason: result.reason, detail: result.detail, attempt, waitMs }, 'PagerDuty delivery failed: retrying');
  }

  private finish(item: QueuedEvent, outcome: DeliveryOutcome): DeliveryResult {
    const identity = { action: item.action, dedupKey: item.key };
    const context = this.context(item.target, identity);
    if (this.current === 'stopping') this.drained[outcome.status === 'success' ? 'delivered' : 'abandoned']++;
    if (outcome.status === 'success') {
      this.metrics.count(item.action, 'accepted');
      this.metrics.deliverySeconds.observe({ action: item.action }, Math.max(0, this.options.clock.now() - item.enqueuedAt) / 1_000);
      if (outcome.attempts > 1 && this.lastRetryReason !== undefined) {
        this.logger.info({ ...context, attempts: outcome.attempts }, 'PagerDuty delivery recovered');
        this.lastRetryReason = undefined;
      }
      return { status: 'success', attempts: outcome.attempts, ...identity };
    }
    if (outcome.reason === 'rejected') {
      this.metrics.count(item.action, 'rejected');
      const message = this.scrub(outcome.message, item.target);
      const errors = outcome.errors.map((e) => this.scrub(e, item.target));
      this.logger.error({ ...context, httpStatus: outcome.httpStatus, message, errors }, 'PagerDuty rejected event: not retried');
      return { status: 'failure', reason: 'rejected', retryLater: false, attempts: outcome.attempts, httpStatus: outcome.httpStatus, message, errors, ...identity };
    }
    this.metrics.count(item.action, 'gave-up');
    const lastError = outcome.last ? `${outcome.last.reason}: ${outcome.last.detail}` : undefined;
    if (outcome.reason === 'gave-up') {
      this.logger.error({ ...context, attempts: outcome.attempts, lastError, deadlineMs: this.options.retry.deadlineMs }, 'PagerDuty delivery gave up at its deadline');
      return { status: 'failure', reason: 'gave-up', retryLater: true, attempts: outcome.attempts, lastError: lastError ?? 'unknown', ...identity };
    }
    // Abandoned at the shutdown deadline: summarised in the shutdown log line, not one line each.
    return { status: 'failure', reason: 'shut-down', retryLater: true, attempts: outcome.attempts, ...(lastError ? { lastError } : {}), ...identity };
  }

  private context(target: PagerDutyTarget, identity: { action: PagerDutyAction; dedupKey: string }) {
    return { team: target.team, routingKeyHash: routingKeyHash(target.routingKey), dedupKey: identity.dedupKey, action: identity.action };
  }

  /** PagerDuty's messages should not echo a key, but a log line is no place to find out. */
  private scrub(text: string, target: PagerDutyTarget): string {
    return target.routingKey ? text.replaceAll(target.routingKey, '[routing key]') : text;
  }
}

/** Enough to tell two keys apart in logs, not enough to use one. */
export function routingKeyHash(routingKey: string): string {
  return createHash('sha256').update(routingKey).digest('hex').slice(0, 8);
}
