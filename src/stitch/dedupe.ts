import { evictOver } from '../base/bounded-map.ts';

/**
 * Remembers idempotency keys for a window of event time, bounded in count. A key seen again
 * inside the window is a redelivery. Past the window the store's replacing keys and each run's
 * own event set still keep replays from counting twice.
 */
export class DedupeWindow {
  private readonly seen = new Map<string, number>();
  private readonly windowMs: number;
  private readonly maxKeys: number;

  constructor(windowMs: number, maxKeys: number) {
    this.windowMs = windowMs;
    this.maxKeys = maxKeys;
  }

  /** True when the key was already seen; otherwise records it. */
  checkAndRemember(key: string, eventTime: number): boolean {
    if (this.seen.has(key)) return true;
    this.seen.set(key, eventTime);
    evictOver(this.seen, this.maxKeys);
    return false;
  }

  /** Forgets keys older than the window, judged against the watermark. */
  expire(watermark: number): void {
    const horizon = watermark - this.windowMs;
    for (const [key, time] of this.seen) {
      if (time >= horizon) break;
      this.seen.delete(key);
    }
  }

  get size(): number {
    return this.seen.size;
  }
}
