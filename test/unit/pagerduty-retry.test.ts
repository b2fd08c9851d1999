import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/alerts/pagerduty/clock.ts';
import type { AttemptResult, RetryableAttempt } from '../../src/alerts/pagerduty/response.ts';
import { decideRetry, deliverWithRetries, type RetryPolicy } from '../../src/alerts/pagerduty/retrying-delivery.ts';

const T0 = Date.UTC(2024, 2, 4, 9);
const POLICY: RetryPolicy = { baseMs: 1_000, maxMs: 60_000, deadlineMs: 300_000 };
const S500: RetryableAttempt = { status: 'retryable', reason: 'server-error', detail: 'HTTP 500', httpStatus: 500 };
const S429 = (retryInMillis?: number): RetryableAttempt => ({ status: 'retryable', reason: 'rate-limited', detail: 'HTTP 429', httpStatus: 429, ...(retryInMillis === undefined ? {} : { retryInMillis }) });
const OK: AttemptResult = { status: 'success', httpStatus: 202 };
const BAD: AttemptResult = { status: 'failure', httpStatus: 400, message: 'Event object is invalid', errors: ['x'] };

/** Time moves only when the code under test sleeps, or when a request "takes" time. */
class FakeClock implements Clock {
  t = T0;
  readonly sleeps: number[] = [];
  now(): number {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (!signal?.aborted) this.t += ms;
  }
}

describe('decideRetry', () => {
  it.each<[string, RetryableAttempt, number, number, number, { retry: boolean; waitMs: number }]>([
    // name, result, attempt, elapsed ms, random, expected
    ['first retry waits between half the base and the base', S500, 0, 0, 0, { retry: true, waitMs: 500 }],
    ['first retry, top of the jitter', S500, 0, 0, 1, { retry: true, waitMs: 1_000 }],
    ['backoff doubles', S500, 3, 0, 1, { retry: true, waitMs: 8_000 }],
    ['backoff stops at maxMs', S500, 12, 0, 1, { retry: true, waitMs: 60_000 }],
    ['Retry-After longer than the backoff wins', S429(30_000), 0, 0, 1, { retry: true, waitMs: 30_000 }],
    ['Retry-After longer than maxMs is still honoured', S429(90_000), 0, 0, 1, { retry: true, waitMs: 90_000 }],
    ['Retry-After shorter than the backoff does not shorten it', S429(100), 3, 0, 1, { retry: true, waitMs: 8_000 }],
    ['no retry when the wait would end at the deadline', S500, 0, 299_000, 1, { retry: false, waitMs: 1_000 }],
    ['no retry when Retry-After points past the deadline', S429(120_000), 0, 200_000, 0, { retry: false, waitMs: 120_000 }],
    ['retry when the wait ends just before the deadline', S500, 0, 298_999, 1, { retry: true, waitMs: 1_000 }],
    ['no retry once the deadline has passed', S500, 0, 400_000, 0, { retry: false, waitMs: 500 }],
  ])('%s', (_name, result, attempt, elapsed, random, expected) => {
    expect(decideRetry(result, attempt, T0 + elapsed, T0 + POLICY.deadlineMs, POLICY, () => random)).toEqual(expected);
  });
});

describe('deliverWithRetries', () => {
  async function run(answers: AttemptResult[], options: { deadlineMs?: number; requestMs?: number; abortAfter?: number; random?: number } = {}) {
    const clock = new FakeClock();
    const controller = new AbortController();
    const timeouts: number[] = [];
    const retries: [string, number, number][] = [];
    let i = 0;
    const outcome = await deliverWithRetries(
      async (n, timeoutMs) => {
        expect(n).toBe(i);
        timeouts.push(timeoutMs);
        clock.t += options.requestMs ?? 0;
        const answer = answers[Math.min(i++, answers.length - 1)]!;
        if (options.abortAfter !== undefined && i >= options.abortAfter) controller.abort();
        return answer;
      },
      {
        deadline: T0 + (options.deadlineMs ?? POLICY.deadlineMs),
        requestTimeoutMs: 10_000,
        policy: POLICY,
        clock,
        random: () => options.random ?? 1,
        signal: controller.signal,
        onRetry: (result, attempt, waitMs) => retries.push([result.reason, attempt, waitMs]),
      },
    );
    return { outcome, attempts: i, sleeps: clock.sleeps, retries, timeouts, elapsed: clock.t - T0 };
  }

  it('202 at once: one attempt, no wait', async () => {
    const r = await run([OK]);
    expect(r.outcome).toEqual({ status: 'success', attempts: 1, httpStatus: 202 });
    expect(r.sleeps).toEqual([]);
  });

  it('400 is never retried', async () => {
    const r = await run([BAD, OK]);
    expect(r.outcome).toEqual({ status: 'failure', reason: 'rejected', attempts: 1, httpStatus: 400, message: 'Event object is invalid', errors: ['x'] });
    expect(r.attempts).toBe(1);
    expect(r.retries).toEqual([]);
  });

  it('500 three times then 202: backoff 1 s, 2 s, 4 s', async () => {
    const r = await run([S500, S500, S500, OK]);
    expect(r.outcome).toEqual({ status: 'success', attempts: 4, httpStatus: 202 });
    expect(r.sleeps).toEqual([1_000, 2_000, 4_000]);
    expect(r.retries).toEqual([
      ['server-error', 1, 1_000],
      ['server-error', 2, 2_000],
      ['server-error', 3, 4_000],
    ]);
  });

  it('429 with Retry-After waits as long as asked', async () => {
    const r = await run([S429(45_000), OK]);
    expect(r.outcome.status).toBe('success');
    expect(r.sleeps).toEqual([45_000]);
  });

  it('500 forever: gives up when the next try would start after the deadline', async () => {
    const r = await run([S500], { deadlineMs: 100_000 });
    // 1+2+4+8+16+32 = 63 s of waits; the next 60 s wait would end at 123 s, past the deadline.
    expect(r.sleeps).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000]);
    expect(r.outcome).toEqual({ status: 'failure', reason: 'gave-up', attempts: 7, last: S500 });
    expect(r.elapsed).toBeLessThan(100_000);
  });

  it('gives up at once when Retry-After reaches past the deadline', async () => {
    const r = await run([S429(3_600_000), OK], { deadlineMs: 60_000 });
    expect(r.outcome).toMatchObject({ status: 'failure', reason: 'gave-up', attempts: 1 });
    expect(r.sleeps).toEqual([]);
  });

  it('always tries once, even when the event waited in the queue past its deadline', async () => {
    const r = await run([OK], { deadlineMs: -5_000 });
    expect(r.outcome.status).toBe('success');
  });

  it('later attempts get no more time than is left before the deadline', async () => {
    const r = await run([S500, S500, OK], { deadlineMs: 12_000, requestMs: 4_000 });
    // t=0 try (10 s timeout) → t=4 s, wait 1 s → t=5 s try with 7 s left → t=9 s, wait 2 s → t=11 s try with 1 s left.
    expect(r.timeouts).toEqual([10_000, 7_000, 1_000]);
    expect(r.outcome.status).toBe('success');
  });

  it('stops when aborted (shutdown deadline) and says so', async () => {
    const r = await run([S500], { abortAfter: 2 });
    expect(r.outcome).toEqual({ status: 'failure', reason: 'shut-down', attempts: 2, last: S500 });
  });
});
