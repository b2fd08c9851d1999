/**
 * Appends every item to the target. `target.push(...items)` passes each item as an argument,
 * and past about a hundred thousand of them the call overflows the stack: a large flush
 * (the ingest benchmark's 50k-row batches of events, runs and spans) failed that way on every
 * retry and stalled ingestion.
 */
export function appendAll<T>(target: T[], items: readonly T[]): void {
  for (const item of items) target.push(item);
}
