import { burnRate } from './burn-rate.ts';
import type { BudgetStatus, Counts } from './types.ts';

/**
 * The error budget of the runs counted so far in an SLO window ("occurrences": each run
 * weighs one). The budget is the share of bad runs the objective allows of the runs counted,
 * so it grows with traffic; with nothing counted, nothing is spent.
 */
export function budgetStatus(objective: number, counts: Counts): BudgetStatus {
  const { good, total } = counts;
  const bad = total - good;
  const allowedBad = (1 - objective) * total;
  const consumedRatio = total === 0 ? 0 : bad / allowedBad;
  return {
    sli: total === 0 ? null : good / total,
    objective,
    total,
    bad,
    allowedBad,
    remainingRatio: 1 - consumedRatio,
    remainingEvents: allowedBad - bad,
    consumedRatio,
    burnRate: burnRate(counts, objective),
  };
}
