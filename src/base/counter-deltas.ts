/**
 * Turns plain running totals kept by a pure core (a stitcher's or a detector's counters) into
 * increments for a metrics counter: each call says how much a total grew since it was last
 * read. A total that went down (its owner started over) counts from zero again.
 */
export class CounterDeltas {
  private readonly last = new Map<string, number>();

  delta(key: string, total: number): number {
    const before = this.last.get(key) ?? 0;
    this.last.set(key, total);
    return total >= before ? total - before : total;
  }
}
