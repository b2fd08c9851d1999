import type { BurnRateTier, Counts, MinuteCounts } from './types.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The SRE workbook's multi-window, multi-burn-rate tiers, plus the 1d tier Sloth adds, stated
 * as the share of the budget a tier lets burn within its long window. For a 30d period that
 * is 14.4×, 6×, 3× and 1×.
 */
const DEFAULT_TIERS: readonly Omit<BurnRateTier, 'factor'>[] = [
  { name: 'page-1h', severity: 'page', longWindowMs: HOUR, shortWindowMs: 5 * MINUTE, budgetConsumed: 0.02 },
  { name: 'page-6h', severity: 'page', longWindowMs: 6 * HOUR, shortWindowMs: 30 * MINUTE, budgetConsumed: 0.05 },
  { name: 'ticket-1d', severity: 'ticket', longWindowMs: DAY, shortWindowMs: 2 * HOUR, budgetConsumed: 0.1 },
  { name: 'ticket-3d', severity: 'ticket', longWindowMs: 3 * DAY, shortWindowMs: 6 * HOUR, budgetConsumed: 0.1 },
];

/** The burn rate at which `budgetConsumed` of the period's budget is gone after one long window. */
export function burnRateFactor(budgetConsumed: number, periodMs: number, longWindowMs: number): number {
  return (budgetConsumed * periodMs) / longWindowMs;
}

/**
 * The default tiers for an SLO period, factors scaled to it. Tiers whose long window is longer
 * than the period are left out: a 1d SLO has no 3d tier.
 */
export function defaultTiers(periodMs: number): BurnRateTier[] {
  return DEFAULT_TIERS.filter((t) => t.longWindowMs <= periodMs).map((t) => ({
    ...t,
    factor: burnRateFactor(t.budgetConsumed, periodMs, t.longWindowMs),
  }));
}

/** How fast the budget burns: the bad share over the share the objective allows; 0 when nothing was counted. */
export function burnRate(counts: Counts, objective: number): number {
  if (counts.total === 0) return 0;
  return (counts.total - counts.good) / counts.total / (1 - objective);
}

function windowMinutes(windowMs: number): number {
  const minutes = windowMs / MINUTE;
  if (!Number.isInteger(minutes) || minutes < 0) throw new RangeError(`a window over minute counts must be whole minutes, not ${windowMs} ms`);
  return minutes;
}

/**
 * Sums of a per-minute series over any window of whole minutes, each in O(log n), so stepping
 * minute by minute through days of series stays cheap. The series may be unordered and may
 * hold a minute more than once.
 */
export class CumulativeCounts {
  private readonly minutes: number[];
  /** good[i], total[i]: sums over the first i minutes in order. */
  private readonly good: number[];
  private readonly total: number[];

  constructor(series: readonly MinuteCounts[]) {
    const sorted = [...series].sort((a, b) => a.minute - b.minute);
    this.minutes = sorted.map((m) => m.minute);
    this.good = [0];
    this.total = [0];
    for (const m of sorted) {
      this.good.push(this.good[this.good.length - 1]! + m.good);
      this.total.push(this.total[this.total.length - 1]! + m.total);
    }
  }

  /** Counts of minutes m with endMinuteExclusive − window ≤ m < endMinuteExclusive. */
  windowCounts(endMinuteExclusive: number, windowMs: number): Counts {
    const from = this.firstAtOrAfter(endMinuteExclusive - windowMinutes(windowMs));
    const to = this.firstAtOrAfter(endMinuteExclusive);
    return { good: this.good[to]! - this.good[from]!, total: this.total[to]! - this.total[from]! };
  }

  private firstAtOrAfter(minute: number): number {
    let low = 0;
    let high = this.minutes.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.minutes[mid]! < minute) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

/** Counts of a per-minute series over the window of whole minutes that ends at `endMinuteExclusive`. */
export function windowCounts(series: readonly MinuteCounts[], endMinuteExclusive: number, windowMs: number): Counts {
  let good = 0;
  let total = 0;
  const from = endMinuteExclusive - windowMinutes(windowMs);
  for (const m of series) {
    if (m.minute >= from && m.minute < endMinuteExclusive) {
      good += m.good;
      total += m.total;
    }
  }
  return { good, total };
}
