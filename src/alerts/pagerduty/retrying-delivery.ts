/**
 * The one place PagerDuty requests are retried: exponential backoff with jitter, at least the wait
 * the server asked for (Retry-After), and a deadline after which the event is given up.
 */
import { backoffDelay } from '../../base/retry.ts';
import type { Clock } from './clock.ts';
import type { AttemptResult, RetryableAttempt } from './response.ts';

export interface RetryPolicy {
  /** First backoff, ms (jittered between half of it and all of it). */
  baseMs: number;
  /** Longest backoff, ms. A Retry-After longer than this is still honoured. */
  maxMs: number;
  /** How long after `send()` an event may still be tried, ms. */
  deadlineMs: number;
}

export type RetryDecision = { retry: true; waitMs: number } | { retry: false; waitMs: number };

/**
 * After failed attempt number `attempt` (0 = the first), whether to try again and after how long.
 * No retry when the next try could only start at or after the deadline.
 */
export function decideRetry(result: RetryableAttempt, attempt: number, now: number, deadline: number, policy: RetryPolicy, random: () => number): RetryDecision {
  const backoff = backoffDelay(attempt, policy.baseMs, policy.maxMs, random);
  const waitMs = Math.max(backoff, result.retryInMillis ?? 0);
  return { retry: now + waitMs < deadline, waitMs };
}

/** How one event's delivery ended. `attempts` counts requests made. */
export type DeliveryOutcome =
  | { status: 'success'; attempts: number; httpStatus: number }
  | { status: 'failure'; reason: 'rejected'; attempts: number; httpStatus: number; message: string; errors: string[] }
  | { status: 'failure'; reason: 'gave-up'; attempts: number; last: RetryableAttempt }
  | { status: 'failure'; reason: 'shut-down'; attempts: number; last?: RetryableAttempt };

export interface DeliveryOptions {
  /** Absolute time (clock ms) after which no new attempt starts. */
  deadline: number;
  requestTimeoutMs: number;
  policy: RetryPolicy;
  clock: Clock;
  random: () => number;
  /** Aborted when shutdown runs out of time: the in-flight request and any wait end at once. */
  signal: AbortSignal;
  /** Told about each failed attempt that will be retried, before the wait. */
  onRetry?: (result: RetryableAttempt, attempt: number, waitMs: number) => void;
}

/**
 * Runs `attempt` until it succeeds, fails permanently, the deadline passes or the signal aborts.
 * The first attempt always runs; later ones get no more time than is left before the deadline.
 */
export async function deliverWithRetries(attempt: (attempt: number, timeoutMs: number) => Promise<AttemptResult>, options: DeliveryOptions): Promise<DeliveryOutcome> {
  const { clock, signal } = options;
  let last: RetryableAttempt | undefined;
  for (let n = 0; ; n++) {
    if (signal.aborted) return last ? { status: 'failure', reason: 'shut-down', attempts: n, last } : { status: 'failure', reason: 'shut-down', attempts: n };
    const left = options.deadline - clock.now();
    const timeoutMs = n === 0 ? options.requestTimeoutMs : Math.max(1, Math.min(options.requestTimeoutMs, left));
    const result = await attempt(n, timeoutMs);
    if (result.status === 'success') return { status: 'success', attempts: n + 1, httpStatus: result.httpStatus };
    if (result.status === 'failure') {
      return { status: 'failure', reason: 'rejected', attempts: n + 1, httpStatus: result.httpStatus, message: result.message, errors: result.errors };
    }
    last = result;
    if (signal.aborted) return { status: 'failure', reason: 'shut-down', attempts: n + 1, last };
    const decision = decideRetry(result, n, clock.now(), options.deadline, options.policy, options.random);
    if (!decision.retry) return { status: 'failure', reason: 'gave-up', attempts: n + 1, last };
    options.onRetry?.(result, n + 1, decision.waitMs);
    await clock.sleep(decision.waitMs, signal);
  }
}
