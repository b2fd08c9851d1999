/** What the weekly scorecard reads from the store: plain rows, each run and span counted once. */

/** Runs that started in a range, per workflow, each at its newest version. */
export interface WorkflowRunStats {
  workflow: string;
  runs: number;
  completed: number;
  failed: number;
  deadlineMissed: number;
  compensated: number;
  open: number;
  /** Trigger to completion of the completed runs (ms); null when none completed. */
  p50Ms: number | null;
  p95Ms: number | null;
}

/** A step's time since the step before it, over the runs that started in a range. */
export interface StepLatency {
  workflow: string;
  step: string;
  count: number;
  p50Ms: number;
  p95Ms: number;
}

/** Steps still failed (their newest span), by error class and code. */
export interface FailureMode {
  workflow: string;
  step: string;
  errorClass: string;
  errorCode: string;
  count: number;
  /** One correlation ID to start from (the smallest, so the same every time). */
  exampleCorrelationId: string;
}

export interface DeadLetterCount {
  topic: string;
  reason: string;
  count: number;
}

/** One instance's claim on sending one report (see src/scorecard/claims.ts for the protocol). */
export interface ReportClaim {
  key: string;
  round: number;
  instance: string;
  state: 'claimed' | 'sent';
  at: number;
}

export interface WeekRange {
  from: number;
  to: number;
}
