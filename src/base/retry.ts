/** Retries with exponential backoff and full jitter, until success, a permanent error or abort. */
export interface RetryOptions {
  /** First wait, ms. */
  baseMs: number;
  /** Longest single wait, ms. */
  maxMs: number;
  /** Give up after this long in total (ms); Infinity to keep trying until aborted. */
  deadlineMs: number;
  isRetryable: (error: unknown) => boolean;
  /** Told about each failed try that will be retried. */
  onRetry?: (error: unknown, attempt: number, waitMs: number) => void;
  signal?: AbortSignal;
  /**
   * The waits hold the process open. Off by default (a background retry must not keep a stopping
   * process alive); on for a start that nothing else keeps alive yet, which would otherwise end
   * the process, quietly and with success, in the middle of its first wait.
   */
  keepAlive?: boolean;
  random?: () => number;
  now?: () => number;
}

export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * (0.5 + random() / 2));
}

export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const started = now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (options.signal?.aborted || !options.isRetryable(error)) throw error;
      const wait = backoffDelay(attempt, options.baseMs, options.maxMs, random);
      if (now() - started + wait > options.deadlineMs) throw error;
      options.onRetry?.(error, attempt + 1, wait);
      await sleep(wait, options.signal, options.keepAlive);
      // Aborted while waiting (a shutdown deadline): no further attempt, which could take long.
      if (options.signal?.aborted) throw error;
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal, keepAlive = false): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    if (!keepAlive) timer.unref();
    function done() {
      signal?.removeEventListener('abort', done);
      clearTimeout(timer);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * The memory of a retry loop's failures, so that a failure is logged once per kind (its message)
 * rather than once per attempt, and a recovery once after failures. Pass `onRetry` to retry().
 */
export class FailureLog {
  private last: string | undefined;
  private readonly log: (error: unknown, attempt: number, waitMs: number, message: string) => void;

  constructor(log: (error: unknown, attempt: number, waitMs: number, message: string) => void) {
    this.log = log;
  }

  readonly onRetry = (error: unknown, attempt: number, waitMs: number): void => {
    const message = error instanceof Error ? error.message : String(error);
    if (message === this.last) return;
    this.last = message;
    this.log(error, attempt, waitMs, message);
  };

  /** Call after a success: true when failures were logged since the last one. */
  recovered(): boolean {
    const failed = this.last !== undefined;
    this.last = undefined;
    return failed;
  }
}
