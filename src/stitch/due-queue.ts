/** What the queue keeps on an item: the due time of its one live entry (Infinity: none). */
export interface Queued {
  queuedDue: number;
}

/**
 * Items by the event time they next come due, earliest first: a binary min-heap with lazy
 * deletion, so that a tick costs what is due, not what is held. An item has at most one live
 * entry, the one at `queuedDue`; scheduling it earlier pushes a new entry and leaves the old one
 * in the heap as stale (skipped when it surfaces), scheduling it later changes nothing — the
 * early entry pops, the caller finds nothing to do yet and schedules it again at its real time.
 * Time and item arrays are kept apart: one entry costs a double and a pointer, not an object.
 */
export class DueQueue<T extends Queued> {
  private readonly times: number[] = [];
  private readonly items: T[] = [];

  /** Makes sure the item surfaces by `at` (no later); Infinity schedules nothing. */
  schedule(item: T, at: number): void {
    if (!(at < item.queuedDue)) return;
    item.queuedDue = at;
    this.push(at, item);
  }

  /**
   * Takes every item due at or before `upTo`, each once, and clears its entry: the caller
   * schedules it again if something of it is still to come. Items it schedules at or before
   * `upTo` while handling these surface at the next call, not in this one.
   */
  takeDue(upTo: number): T[] {
    const due: T[] = [];
    while (this.times.length > 0 && this.times[0]! <= upTo) {
      const at = this.times[0]!;
      const item = this.pop();
      if (item.queuedDue !== at) continue;
      item.queuedDue = Number.POSITIVE_INFINITY;
      due.push(item);
    }
    return due;
  }

  /** The earliest entry's time, stale or not (Infinity when empty): nothing is due before it. */
  get next(): number {
    return this.times.length > 0 ? this.times[0]! : Number.POSITIVE_INFINITY;
  }

  /** Entries held, stale ones included. */
  get size(): number {
    return this.times.length;
  }

  private push(at: number, item: T): void {
    const { times, items } = this;
    let i = times.length;
    times.push(at);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= at) break;
      times[i] = times[parent]!;
      items[i] = items[parent]!;
      i = parent;
    }
    times[i] = at;
    items[i] = item;
  }

  private pop(): T {
    const { times, items } = this;
    const top = items[0]!;
    const lastAt = times.pop()!;
    const last = items.pop()!;
    const n = times.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && times[child + 1]! < times[child]!) child++;
      if (times[child]! >= lastAt) break;
      times[i] = times[child]!;
      items[i] = items[child]!;
      i = child;
    }
    times[i] = lastAt;
    items[i] = last;
    return top;
  }
}
