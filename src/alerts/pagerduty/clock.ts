import { sleep } from '../../base/retry.ts';

/** Time as the notifier sees it; tests pass a clock that advances only when told to. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts. Never rejects; timers are unref'd. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep,
};
