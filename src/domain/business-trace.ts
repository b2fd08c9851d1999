import type { EventError } from './event.ts';
import type { RunRecord } from './records.ts';

/** One event a run took in for a step (or its trigger): the deciding one, failed attempts, retries. */
export interface TraceAttempt {
  source: string;
  eventId: string;
  type: string;
  /** Event time. */
  time: number;
  status: 'done' | 'failed';
  error?: EventError;
}

/** The same event (source, id) delivered again: it changed nothing, but someone sent it twice. */
export interface TraceRedelivery {
  source: string;
  eventId: string;
  /** Wall time it arrived again (a redelivery carries its first event time). */
  receivedAt: number;
}

/** One step of a run: from the step before it (or the trigger) to the event that decided it. */
export interface TraceStep {
  name: string;
  kind: 'step' | 'compensation';
  status: 'done' | 'failed';
  source: string;
  eventId: string;
  eventType: string;
  startAt: number;
  endAt: number;
  error?: EventError;
  /** Every event of this step, in event-time order, the deciding one included. */
  attempts: TraceAttempt[];
  redeliveries: TraceRedelivery[];
}

/**
 * A stitched workflow run as a trace: the run (with its verdict), its trigger and its steps
 * in event-time order. Plain data; an exporter turns it into spans of its own format.
 */
export interface BusinessTrace {
  run: RunRecord;
  trigger: { source: string; eventId: string; type: string; time: number; attempts: TraceAttempt[]; redeliveries: TraceRedelivery[] };
  steps: TraceStep[];
  /** Events of the run not kept for the trace (past the per-run bound), so a reader knows it is partial. */
  droppedAttempts: number;
}

/**
 * Where traces of runs that reached a verdict go. `offer` never blocks and never throws: a sink
 * that cannot keep up drops (and counts) rather than hold the pipeline.
 */
export interface BusinessTraceSink {
  offer(traces: readonly BusinessTrace[]): void;
}
