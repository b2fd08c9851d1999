import { budgetStatus } from './budget.ts';
import { burnRate, CumulativeCounts } from './burn-rate.ts';
import type { BudgetStatus, BurnStatus, Counts, MinuteCounts, SloAlertSignal, SloDefinition, SloStatus } from './types.ts';
import { windowStart } from './window.ts';

const MINUTE = 60_000;

/**
 * Burn rates are ratios of counts divided by (1 − objective), and factors are products of
 * shares and window lengths, so a burn exactly at the factor can land a rounding error below
 * it. "At least the factor" allows for that, and nothing more.
 */
const atLeast = (rate: number, factor: number) => rate >= factor * (1 - 1e-9);

export interface Evaluation {
  status: SloStatus;
  /** Tiers that started or stopped firing compared with `wasFiring`, in tier order. */
  signals: SloAlertSignal[];
}

export interface RangeEvaluation {
  /** Every change, minute by minute, in the order it happened. */
  signals: SloAlertSignal[];
  /** The tier names firing after the last minute evaluated. */
  firing: Set<string>;
  /** The status at the last minute boundary evaluated; undefined when the range held none. */
  status: SloStatus | undefined;
}

/** The burn of every tier, over windows that end at the minute boundary `endMinute` (exclusive). */
function burnsAt(slo: SloDefinition, counts: CumulativeCounts, endMinute: number): BurnStatus[] {
  return slo.alerting.tiers.map((tier) => {
    const long = counts.windowCounts(endMinute, tier.longWindowMs);
    const short = counts.windowCounts(endMinute, tier.shortWindowMs);
    const longBurnRate = burnRate(long, slo.objective);
    const shortBurnRate = burnRate(short, slo.objective);
    const firing = long.total >= slo.alerting.minEvents && atLeast(longBurnRate, tier.factor) && atLeast(shortBurnRate, tier.factor);
    return { tier, longBurnRate, shortBurnRate, longEvents: long.total, firing };
  });
}

/** Signals for the tiers whose firing differs from `wasFiring`. */
function changes(slo: SloDefinition, burns: readonly BurnStatus[], wasFiring: ReadonlySet<string>, at: number, budget: () => BudgetStatus): SloAlertSignal[] {
  const signals: SloAlertSignal[] = [];
  for (const burn of burns) {
    if (burn.firing === wasFiring.has(burn.tier.name)) continue;
    const { tier } = burn;
    signals.push({
      kind: burn.firing ? 'firing' : 'resolved',
      slo: slo.name,
      workflow: slo.workflow,
      owner: slo.owner,
      tier: tier.name,
      severity: tier.severity,
      longWindowMs: tier.longWindowMs,
      shortWindowMs: tier.shortWindowMs,
      burnRate: Math.min(burn.longBurnRate, burn.shortBurnRate),
      factor: tier.factor,
      budgetRemaining: budget().remainingRatio,
      at,
    });
  }
  return signals;
}

/**
 * The status of one SLO at event time `at`, and the alert changes since `wasFiring` (the
 * names of the tiers firing before). Burn windows end at the last minute boundary at or
 * before `at` (exclusive), so any `at` within a minute judges the same minutes, and a
 * signal's `at` is that boundary. `series` holds the SLO's runs per minute of due time and
 * must cover the longest tier window; `budgetCounts` are the runs counted from
 * windowStart(slo.window, at) to `at`. A tier fires only while both of its windows burn at
 * least its factor and its long window counted at least `minEvents` runs.
 */
export function evaluateAt(slo: SloDefinition, series: readonly MinuteCounts[], budgetCounts: Counts, at: number, wasFiring: ReadonlySet<string>): Evaluation {
  const endMinute = Math.floor(at / MINUTE);
  const burns = burnsAt(slo, new CumulativeCounts(series), endMinute);
  const budget = budgetStatus(slo.objective, budgetCounts);
  return {
    status: { slo, at, windowStart: windowStart(slo.window, at), budget, burns },
    signals: changes(slo, burns, wasFiring, endMinute * MINUTE, () => budget),
  };
}

/**
 * Evaluates every minute boundary b with fromExclusive < b ≤ to, in order, carrying the
 * firing tiers from one to the next: the signals a live engine raises cycle by cycle and
 * a replay of the same series raises in one go are the same, in the same order, because
 * both judge the same boundaries. `budgetCountsAt(b)` is asked only where a signal needs
 * the budget left and for the last boundary's status.
 */
export function evaluateRange(
  slo: SloDefinition,
  series: readonly MinuteCounts[],
  budgetCountsAt: (at: number) => Counts,
  fromExclusive: number,
  to: number,
  wasFiring: ReadonlySet<string>,
): RangeEvaluation {
  const counts = new CumulativeCounts(series);
  const firing = new Set(wasFiring);
  const signals: SloAlertSignal[] = [];
  const first = Math.floor(fromExclusive / MINUTE) + 1;
  const last = Math.floor(to / MINUTE);
  let status: SloStatus | undefined;
  for (let minute = first; minute <= last; minute++) {
    const at = minute * MINUTE;
    let budget: BudgetStatus | undefined;
    const budgetAt = () => (budget ??= budgetStatus(slo.objective, budgetCountsAt(at)));
    const burns = burnsAt(slo, counts, minute);
    for (const signal of changes(slo, burns, firing, at, budgetAt)) {
      if (signal.kind === 'firing') firing.add(signal.tier);
      else firing.delete(signal.tier);
      signals.push(signal);
    }
    if (minute === last) status = { slo, at, windowStart: windowStart(slo.window, at), budget: budgetAt(), burns };
  }
  return { signals, firing, status };
}
