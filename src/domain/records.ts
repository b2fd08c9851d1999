import type { EventError, EventOrigin } from './event.ts';

/** What the stitcher hands to the store. Plain data, one shape for every store. */

export type RunState = 'open' | 'completed' | 'failed' | 'deadline_missed' | 'compensated';
export const RUN_STATES: readonly RunState[] = ['open', 'completed', 'failed', 'deadline_missed', 'compensated'];

export interface EventRecord {
  source: string;
  id: string;
  type: string;
  time: number;
  correlationId: string;
  subject: string;
  data: string;
  error: EventError;
  origin: EventOrigin;
  receivedAt: number;
}

export interface StepOutcome {
  name: string;
  kind: 'step' | 'compensation';
  status: 'done' | 'failed';
  /** Event time of the event that decided the outcome. */
  time: number;
  source: string;
  eventId: string;
  error?: EventError;
}

export interface RunRecord {
  runId: string;
  workflow: string;
  owner: string;
  correlationId: string;
  partition: number;
  state: RunState;
  startedAt: number;
  deadlineAt: number;
  /** When all required steps were done (event time); 0 while not completed. */
  completedAt: number;
  deadlineMissed: boolean;
  /** Required steps not done yet. */
  missingSteps: string[];
  failedSteps: string[];
  eventCount: number;
  lastEventAt: number;
  /** Monotonic per run: the newest row wins in the store. */
  version: number;
}

export interface SpanRecord {
  runId: string;
  workflow: string;
  correlationId: string;
  step: string;
  kind: 'trigger' | 'step' | 'compensation';
  status: 'done' | 'failed';
  source: string;
  eventId: string;
  /** The previous step's time (or the trigger's) up to this step's, in event time. */
  startAt: number;
  endAt: number;
  /** Time since the trigger. */
  sinceTriggerMs: number;
  runStartedAt: number;
  errorCode: string;
  errorClass: string;
  version: number;
}

/**
 * An event delivered again (the same source and id) that the stitcher dropped: a webhook retried
 * by its sender, a message read again after a crash. Kept so a trace can show it; one row per
 * delivery (origin), so reading the same message again after a restart stays one row.
 */
export interface RedeliveryRecord {
  correlationId: string;
  source: string;
  eventId: string;
  origin: EventOrigin;
  /** Wall-clock ms when it arrived again. */
  receivedAt: number;
}

/** One run counted for one SLO: good or bad, at its due time (event time). */
export interface SloOutcomeRecord {
  slo: string;
  workflow: string;
  runId: string;
  correlationId: string;
  due: number;
  good: boolean;
  version: number;
}

/** Everything the stitcher produced since the last drain. */
export interface StitchOutput {
  events: EventRecord[];
  runs: RunRecord[];
  spans: SpanRecord[];
  sloOutcomes: SloOutcomeRecord[];
}
