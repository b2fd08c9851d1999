import { formatDuration } from '../domain/duration.ts';
import { budgetStatus } from './budget.ts';
import type { MinuteCounts, SloDefinition, SloStatus } from './types.ts';

/** How an SLO and its status look in the API and on the command line. */

export function describeWindow(slo: SloDefinition): string {
  const w = slo.window;
  return w.kind === 'rolling' ? `${formatDuration(w.durationMs)} rolling` : `calendar ${w.unit} (${w.timeZone})`;
}

export function describeIndicator(slo: SloDefinition): string {
  const i = slo.indicator;
  if (i.kind === 'completed-within') return `completed within ${formatDuration(i.thresholdMs)}: ${i.steps.join(', ')}`;
  if (i.kind === 'step-latency') return `${i.to} within ${formatDuration(i.thresholdMs)} of ${i.from}`;
  return 'completed without failure or compensation';
}

export function statusView(status: SloStatus) {
  const { slo, budget } = status;
  return {
    name: slo.name,
    workflow: slo.workflow,
    owner: slo.owner,
    description: slo.description ?? null,
    objective: slo.objective,
    window: describeWindow(slo),
    indicator: describeIndicator(slo),
    origin: slo.origin,
    at: new Date(status.at).toISOString(),
    windowStart: new Date(status.windowStart).toISOString(),
    sli: budget.sli,
    runs: { total: budget.total, bad: budget.bad },
    errorBudget: {
      allowedBad: budget.allowedBad,
      remainingRatio: budget.remainingRatio,
      remainingRuns: budget.remainingEvents,
      consumedRatio: budget.consumedRatio,
      burnRate: budget.burnRate,
    },
    burnRates: status.burns.map((b) => ({
      tier: b.tier.name,
      severity: b.tier.severity,
      longWindow: formatDuration(b.tier.longWindowMs),
      shortWindow: formatDuration(b.tier.shortWindowMs),
      factor: b.tier.factor,
      longBurnRate: b.longBurnRate,
      shortBurnRate: b.shortBurnRate,
      runsInLongWindow: b.longEvents,
      firing: b.firing,
    })),
  };
}

/** SLI per bucket and the error budget left as the window went on, for charts. */
export function seriesView(slo: SloDefinition, buckets: readonly MinuteCounts[]) {
  let good = 0;
  let total = 0;
  return buckets.map((b) => {
    good += b.good;
    total += b.total;
    const cumulative = budgetStatus(slo.objective, { good, total });
    return {
      at: new Date(b.minute * 60_000).toISOString(),
      good: b.good,
      total: b.total,
      sli: b.total > 0 ? b.good / b.total : null,
      budgetRemainingRatio: cumulative.remainingRatio,
    };
  });
}

/** Bucket size that keeps a chart of the window under ~750 points. */
export function bucketMinutesFor(windowMs: number): number {
  for (const minutes of [1, 5, 15, 60, 180, 360, 1440]) if (windowMs / 60_000 / minutes <= 750) return minutes;
  return 1440;
}
