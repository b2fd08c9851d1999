import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, retry, sleep, type RetryOptions } from '../../src/base/retry.ts';

class Transient extends Error {
  override name = 'Transient';
}
class Permanent extends Error {
  override name = 'Permanent';
}

const isRetryable = (error: unknown) => error instanceof Transient;

describe('backoffDelay', () => {
  it.each([
    // attempt, random, expected: base 200, max 10 000
    [0, 0, 100],
    [0, 0.5, 150],
    [0, 1, 200],
    [1, 0, 200],
    [3, 1, 1_600],
    [5, 0.5, 4_800],
    [6, 1, 10_000],
    [6, 0, 5_000],
    [30, 1, 10_000],
    [1_000, 0, 5_000],
  ])('attempt %d with random %d waits %d ms', (attempt, random, expected) => {
    expect(backoffDelay(attempt, 200, 10_000, () => random)).toBe(expected);
  });

  it('stays between half the ceiling and the ceiling, which doubles up to maxMs', () => {
    for (let attempt = 0; attempt <= 40; attempt++) {
      const ceiling = Math.min(10_000, 200 * 2 ** attempt);
      for (const random of [0, 0.1, 0.25, 0.5, 0.75, 0.999999]) {
        const delay = backoffDelay(attempt, 200, 10_000, () => random);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('never waits longer than maxMs even when maxMs is below baseMs', () => {
    expect(backoffDelay(0, 500, 100, () => 1)).toBe(100);
  });
});

describe('retry', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2024, 2, 4, 9) });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Runs retry to the end under fake timers; returns what happened. */
  async function run(failures: Error[], options: Partial<RetryOptions> = {}) {
    const attempts: number[] = [];
    const retries: [string, number, number][] = [];
    const started = Date.now();
    const promise = retry(
      async (attempt) => {
        attempts.push(attempt);
        const failure = failures[attempt];
        if (failure) throw failure;
        return `done after ${attempt}`;
      },
      {
        baseMs: 100,
        maxMs: 1_000,
        deadlineMs: Number.POSITIVE_INFINITY,
        isRetryable,
        random: () => 1,
        onRetry: (error, attempt, waitMs) => retries.push([(error as Error).message, attempt, waitMs]),
        ...options,
      },
    );
    const settled = promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    await vi.runAllTimersAsync();
    return { result: await settled, attempts, retries, elapsed: Date.now() - started };
  }

  it('returns the first success without waiting', async () => {
    const { result, attempts, retries, elapsed } = await run([]);
    expect([result, attempts, retries, elapsed]).toEqual([{ value: 'done after 0' }, [0], [], 0]);
  });

  it('retries retryable errors with growing waits until it succeeds', async () => {
    const { result, attempts, retries, elapsed } = await run([new Transient('a'), new Transient('b'), new Transient('c')]);
    expect(result).toEqual({ value: 'done after 3' });
    expect(attempts).toEqual([0, 1, 2, 3]);
    expect(retries).toEqual([
      ['a', 1, 100],
      ['b', 2, 200],
      ['c', 3, 400],
    ]);
    expect(elapsed).toBe(700);
  });

  it('uses the random source for jitter', async () => {
    const { retries } = await run([new Transient('a'), new Transient('b')], { random: () => 0 });
    expect(retries.map(([, , wait]) => wait)).toEqual([50, 100]);
  });

  it('stops at once on an error that is not retryable, and throws that error', async () => {
    const permanent = new Permanent('400 bad row');
    const { result, attempts, retries } = await run([new Transient('a'), permanent, new Transient('never')]);
    expect(result).toEqual({ error: permanent });
    expect([attempts, retries.length]).toEqual([[0, 1], 1]);
  });

  it('gives up with the last error when the next wait would pass the deadline', async () => {
    const errors = Array.from({ length: 10 }, (_, i) => new Transient(`e${i}`));
    const { result, attempts, retries, elapsed } = await run(errors, { deadlineMs: 1_000 });
    // Waits 100, 200, 400 fit in 1 000 ms; the fourth (800 after 700 spent) would not.
    expect(result).toEqual({ error: errors[3] });
    expect(attempts).toEqual([0, 1, 2, 3]);
    expect(retries.map(([, , wait]) => wait)).toEqual([100, 200, 400]);
    expect(elapsed).toBe(700);
  });

  it('judges the deadline with the clock it is given', async () => {
    let clock = 0;
    const errors = Array.from({ length: 10 }, (_, i) => new Transient(`e${i}`));
    const { attempts } = await run(errors, {
      deadlineMs: 5_000,
      now: () => (clock += 2_000),
    });
    // Started at 2 000. Spent + next wait: 2 000 + 100, 4 000 + 200 fit in 5 000; 6 000 + 400 does not.
    expect(attempts).toEqual([0, 1, 2]);
  });

  it('keeps retrying with waits capped at maxMs when there is no deadline', async () => {
    const errors = Array.from({ length: 8 }, (_, i) => new Transient(`e${i}`));
    const { result, retries } = await run(errors);
    expect(result).toEqual({ value: 'done after 8' });
    expect(retries.map(([, , wait]) => wait)).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000]);
  });

  it('makes no further attempt once the signal is aborted before a failure', async () => {
    const controller = new AbortController();
    controller.abort();
    const first = new Transient('a');
    const { result, attempts, retries } = await run([first, new Transient('b')], { signal: controller.signal });
    expect([result, attempts, retries]).toEqual([{ error: first }, [0], []]);
  });

  it('an abort during the wait ends it early and makes no further attempt', async () => {
    const controller = new AbortController();
    const first = new Transient('a');
    const { result, attempts, elapsed } = await run([first, new Transient('b')], {
      signal: controller.signal,
      onRetry: () => setTimeout(() => controller.abort(), 30),
    });
    expect([result, attempts, elapsed]).toEqual([{ error: first }, [0], 30]);
  });
});

describe('sleep', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves after the given time and leaves no listener on the signal', async () => {
    const controller = new AbortController();
    let done = false;
    void sleep(1_000, controller.signal).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('resolves early on abort and leaves no timer behind', async () => {
    const controller = new AbortController();
    let done = false;
    void sleep(60_000, controller.signal).then(() => (done = true));
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect([done, vi.getTimerCount()]).toEqual([true, 0]);
  });

  it('resolves at once when already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    let done = false;
    void sleep(60_000, controller.signal).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(0);
    expect([done, vi.getTimerCount()]).toEqual([true, 0]);
  });
});
