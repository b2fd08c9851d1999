import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { formatDuration } from '../domain/duration.ts';
import type { SloStatus } from './types.ts';

/** Per-SLO gauges. Labels: SLO names and tier windows from the config — short fixed lists. */
export class SloMetrics {
  private readonly sli: Gauge<'slo'>;
  private readonly objective: Gauge<'slo'>;
  private readonly budgetRemaining: Gauge<'slo'>;
  private readonly budgetRemainingEvents: Gauge<'slo'>;
  private readonly burnRate: Gauge<'slo' | 'window'>;
  private readonly firing: Gauge<'slo' | 'tier'>;
  private readonly runs: Gauge<'slo' | 'verdict'>;
  readonly alerts: Counter<'slo' | 'tier' | 'kind'>;
  readonly evaluationSeconds: Histogram;
  /** 1 on the instance of the consumer group that pages SLO burn (slo/lead.ts). */
  readonly lead: Gauge;
  /** How far behind this instance's own stored verdicts the group's lowest holds SLO evaluation (slo/group-watermark.ts). */
  readonly heldBackSeconds: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.sli = new Gauge({ name: 'seamwatch_slo_sli', help: 'Share of good runs over the SLO window (absent until a run is counted).', labelNames: ['slo'], registers });
    this.objective = new Gauge({ name: 'seamwatch_slo_objective', help: 'The SLO objective, e.g. 0.99.', labelNames: ['slo'], registers });
    this.budgetRemaining = new Gauge({ name: 'seamwatch_slo_error_budget_remaining_ratio', help: 'Error budget left over the SLO window: 1 is untouched, below 0 overspent.', labelNames: ['slo'], registers });
    this.budgetRemainingEvents = new Gauge({ name: 'seamwatch_slo_error_budget_remaining_runs', help: 'Bad runs the objective still allows over the SLO window.', labelNames: ['slo'], registers });
    this.burnRate = new Gauge({ name: 'seamwatch_slo_burn_rate', help: 'Burn rate per alerting window (1 spends the budget exactly over the SLO period).', labelNames: ['slo', 'window'], registers });
    this.firing = new Gauge({ name: 'seamwatch_slo_alert_firing', help: '1 while a burn-rate tier fires.', labelNames: ['slo', 'tier'], registers });
    this.runs = new Gauge({ name: 'seamwatch_slo_runs', help: 'Runs counted over the SLO window, by verdict.', labelNames: ['slo', 'verdict'], registers });
    this.alerts = new Counter({ name: 'seamwatch_slo_alert_signals_total', help: 'Burn-rate alert signals sent to the alerting layer.', labelNames: ['slo', 'tier', 'kind'], registers });
    this.lead = new Gauge({ name: 'seamwatch_slo_lead', help: '1 on the instance of the consumer group that pages SLO burn (the holder of Kafka partition 0), 0 on the others.', registers });
    this.heldBackSeconds = new Gauge({
      name: 'seamwatch_slo_held_back_seconds',
      help: "Event time between this instance's stored verdicts and the group's lowest, up to which SLOs are evaluated (0 when no other instance is behind).",
      registers,
    });
    this.evaluationSeconds = new Histogram({
      name: 'seamwatch_slo_evaluation_seconds',
      help: 'Time of one evaluation cycle over every SLO (queries included).',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
  }

  publish(status: SloStatus): void {
    const slo = status.slo.name;
    if (status.budget.sli === null) this.sli.remove({ slo });
    else this.sli.set({ slo }, status.budget.sli);
    this.objective.set({ slo }, status.slo.objective);
    this.budgetRemaining.set({ slo }, status.budget.remainingRatio);
    this.budgetRemainingEvents.set({ slo }, status.budget.remainingEvents);
    this.runs.set({ slo, verdict: 'good' }, status.budget.total - status.budget.bad);
    this.runs.set({ slo, verdict: 'bad' }, status.budget.bad);
    for (const burn of status.burns) {
      this.burnRate.set({ slo, window: formatDuration(burn.tier.longWindowMs) }, burn.longBurnRate);
      this.burnRate.set({ slo, window: formatDuration(burn.tier.shortWindowMs) }, burn.shortBurnRate);
      this.firing.set({ slo, tier: burn.tier.name }, burn.firing ? 1 : 0);
    }
  }
}
