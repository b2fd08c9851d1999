/**
 * Business SLOs: shared types. An SLO counts workflow runs as good or bad ("occurrences"
 * budgeting: each run weighs one), each at a fixed event time, its due time.
 */

/** What makes one run good. */
export type Indicator =
  /** The run reaches all of `steps` (default: the workflow's required steps) within the threshold from its trigger. */
  | { kind: 'completed-within'; thresholdMs: number; steps: string[] }
  /** The run completes, without failing or being compensated, by the workflow's deadline. */
  | { kind: 'success-ratio' }
  /** Step `to` follows step `from` within the threshold (runs without `from` are not counted). */
  | { kind: 'step-latency'; from: string; to: string; thresholdMs: number };

export type SloWindow =
  | { kind: 'rolling'; durationMs: number }
  /** The current calendar week (Monday), month or quarter, in a time zone. */
  | { kind: 'calendar'; unit: 'week' | 'month' | 'quarter'; timeZone: string };

/**
 * One multi-window burn-rate alert: fires while the burn rate over both the long and the
 * short window is at least `factor`; resolves when the short window drops below it.
 */
export interface BurnRateTier {
  name: string;
  severity: 'page' | 'ticket';
  longWindowMs: number;
  shortWindowMs: number;
  /** Share of the whole budget that burning at `factor` for the long window consumes (0.02 = 2 %). */
  budgetConsumed: number;
  /** Burn-rate threshold: budgetConsumed × SLO period / long window (14.4 for 2 % in 1h of 30d). */
  factor: number;
}

export interface SloDefinition {
  name: string;
  workflow: string;
  owner: string;
  description?: string;
  /** 0.99 for 99 %. */
  objective: number;
  window: SloWindow;
  indicator: Indicator;
  alerting: {
    tiers: BurnRateTier[];
    /** A burn alert may fire only with at least this many runs counted in its long window. */
    minEvents: number;
  };
  /** Where it was defined: the seamwatch config, or an OpenSLO document (file path). */
  origin: string;
}

export type { Counts, MinuteCounts } from '../domain/slo-counts.ts';

export interface BudgetStatus {
  /** good / total, null when nothing was counted. */
  sli: number | null;
  objective: number;
  total: number;
  bad: number;
  /** Bad runs the objective allows over the window's runs so far: (1 − objective) × total. */
  allowedBad: number;
  /** 1 − bad / allowedBad; negative when overspent; 1 when nothing was counted. */
  remainingRatio: number;
  /** allowedBad − bad. */
  remainingEvents: number;
  consumedRatio: number;
  /** Burn rate over the whole SLO window. */
  burnRate: number;
}

export interface BurnStatus {
  tier: BurnRateTier;
  longBurnRate: number;
  shortBurnRate: number;
  longEvents: number;
  firing: boolean;
}

export interface SloStatus {
  slo: SloDefinition;
  /** Event time the status is for. */
  at: number;
  windowStart: number;
  budget: BudgetStatus;
  burns: BurnStatus[];
}

/** What goes to the alerting layer. */
export interface SloAlertSignal {
  kind: 'firing' | 'resolved';
  slo: string;
  workflow: string;
  owner: string;
  tier: string;
  severity: 'page' | 'ticket';
  longWindowMs: number;
  shortWindowMs: number;
  burnRate: number;
  factor: number;
  budgetRemaining: number;
  /** Event time of the change. */
  at: number;
}

/** The one interface SLO alert signals go through; the alert engine implements it. */
export interface SloAlertSink {
  signal(signal: SloAlertSignal): void;
  /**
   * The tiers of this SLO the sink was last told are firing (and not told resolved since), when
   * it keeps that across restarts: what a starting engine owes a resolve to.
   */
  firingTiers?(slo: string): ReadonlySet<string>;
}
