import type { WorkflowEvent } from '../domain/event.ts';

/**
 * Steps that arrived before their trigger, by correlation ID, until the trigger comes or they
 * are too old (then they stay only in the events table).
 */
export class HeldSteps {
  private readonly byCorrelation = new Map<string, WorkflowEvent[]>();

  hold(event: WorkflowEvent): void {
    const list = this.byCorrelation.get(event.correlationId);
    if (list) list.push(event);
    else this.byCorrelation.set(event.correlationId, [event]);
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
    if (after.length === 0) this.byCorrelation.delete(correlationId);
    else if (after.length !== before.length) this.byCorrelation.set(correlationId, after);
  }

  get size(): number {
    let n = 0;
    for (const list of this.byCorrelation.values()) n += list.length;
    return n;
  }
}
