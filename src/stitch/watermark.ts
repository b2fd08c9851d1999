/**
 * Event-time clock. It follows the newest event time seen, so a replay of last week gets the
 * same verdicts as live; when sources go quiet it moves on with the wall clock after a grace
 * period, so deadlines still pass when nothing arrives.
 */
export class Watermark {
  private maxEventTime = Number.NEGATIVE_INFINITY;
  private lastArrival = Number.NEGATIVE_INFINITY;
  private readonly idleAdvanceAfterMs: number;

  constructor(idleAdvanceAfterMs: number) {
    this.idleAdvanceAfterMs = idleAdvanceAfterMs;
  }

  observe(eventTime: number, now: number): void {
    if (eventTime > this.maxEventTime) this.maxEventTime = eventTime;
    this.lastArrival = now;
  }

  /** Sets the starting point after recovery, without counting as an arrival. */
  seed(eventTime: number, now: number): void {
    if (eventTime > this.maxEventTime) this.maxEventTime = eventTime;
    if (this.lastArrival === Number.NEGATIVE_INFINITY) this.lastArrival = now;
  }

  at(now: number): number {
    if (this.maxEventTime === Number.NEGATIVE_INFINITY) return Number.NEGATIVE_INFINITY;
    const idle = now - this.lastArrival - this.idleAdvanceAfterMs;
    return this.maxEventTime + Math.max(0, idle);
  }
}
