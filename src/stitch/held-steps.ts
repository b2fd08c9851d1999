import type { WorkflowEvent } from '../domain/event.ts';

/**
 * Steps that arrived before their trigger, by correlation ID, until the trigger comes or they
 * are too old (then they stay only in the events table). At most `maxEvents` are held: past
 * that, the correlation IDs held longest are let go first (their steps stay in the events
 * table too; only a trigger that still comes will not find them), so a flood of orphan steps
 * (a trigger source down for hours) cannot grow memory without bound.
 */
export class HeldSteps {
  private readonly byCorrelation = new Map<string, WorkflowEvent[]>();
  private readonly maxEvents: number;
  private count = 0;
  /** Events let go because the cap was reached, since the start. */
  evicted = 0;

  constructor(maxEvents = Number.POSITIVE_INFINITY) {
    this.maxEvents = maxEvents;
  }

  hold(event: WorkflowEvent): void {
    const list = this.byCorrelation.get(event.correlationId);
    if (list) list.push(event);
    else this.byCorrelation.set(event.correlationId, [event]);
    this.count++;
    if (this.count > this.maxEvents) this.evictOldest(event.correlationId);
  }

  /**
   * Lets go of the correlation IDs held longest (Map order is first-held order) until under the
   * cap, and under a large cap 1/64 further, as evictOver does (bounded-map.ts): each pass walks
   * the Map's deleted slots from the start, and one ID let go per held step at the cap made every
   * step cost a walk over up to the cap's worth of them (7 % of ingest's CPU in bench:ingest,
   * whose steps often come before their triggers).
   */
  private evictOldest(newest: string): void {
    const target = this.maxEvents - (this.maxEvents >= 64 ? Math.floor(this.maxEvents / 64) : 0);
    for (const [correlationId, list] of this.byCorrelation) {
      if (this.count <= target) return;
      if (correlationId === newest) continue;
      this.evicted += list.length;
      this.replace(correlationId, list, []);
    }
    // One correlation ID over the cap on its own: its oldest steps go.
    const own = this.byCorrelation.get(newest);
    if (own && this.count > target) {
      const drop = Math.min(own.length, this.count - target);
      this.evicted += drop;
      this.replace(newest, own, own.slice(drop));
    }
  }

  /** Hands each held event of a correlation ID to `keep`, and keeps those it returns true for. */
  release(correlationId: string, keep: (event: WorkflowEvent) => boolean): void {
    const list = this.byCorrelation.get(correlationId);
    if (list) this.replace(correlationId, list, list.filter(keep));
  }

  /** Drops events `keep` says no to; returns how many were dropped. */
  retain(keep: (event: WorkflowEvent) => boolean): number {
    let dropped = 0;
    for (const [correlationId, list] of this.byCorrelation) {
      const kept = list.filter(keep);
      dropped += list.length - kept.length;
      this.replace(correlationId, list, kept);
    }
    return dropped;
  }

  private replace(correlationId: string, before: WorkflowEvent[], after: WorkflowEvent[]): void {
    this.count -= before.length - after.length;
    if (after.length === 0) this.byCorrelation.delete(correlationId);
    else if (after.length !== before.length) this.byCorrelation.set(correlationId, after);
  }

  get size(): number {
    return this.count;
  }
}
