import type { EventRecord, RunRecord, RunState, SpanRecord } from '../../domain/records.ts';
import type { RowBinaryWriter } from './row-binary.ts';

/**
 * The hot tables' rows in RowBinary, in the order of the column lists below (which are what
 * the INSERT names, so MATERIALIZED columns are left to the server). Enum8 columns take the
 * numbers the migrations gave their values.
 */

export const EVENT_COLUMNS =
  'correlation_id, source, event_id, type, event_time_ms, subject, data, error_code, error_class, error_message, topic, partition, offset, received_at_ms';
export const RUN_COLUMNS =
  'workflow, correlation_id, run_id, owner, partition, state, started_at_ms, deadline_at_ms, completed_at_ms, deadline_missed, missing_steps, failed_steps, event_count, last_event_at_ms, version';
export const SPAN_COLUMNS =
  'correlation_id, run_id, workflow, step, kind, status, source, event_id, run_started_at_ms, start_ms, end_ms, duration_ms, since_trigger_ms, error_code, error_class, version';

const RUN_STATE: Record<RunState, number> = { open: 1, completed: 2, failed: 3, deadline_missed: 4, compensated: 5 };
const SPAN_KIND: Record<SpanRecord['kind'], number> = { trigger: 1, step: 2, compensation: 3 };
const SPAN_STATUS: Record<SpanRecord['status'], number> = { done: 1, failed: 2 };

export function eventRow(w: RowBinaryWriter, e: EventRecord): void {
  w.str(e.correlationId);
  w.str(e.source);
  w.str(e.id);
  w.str(e.type);
  w.u64(e.time);
  w.str(e.subject);
  if (typeof e.data === 'string') w.str(e.data);
  else w.bytes(e.data);
  w.str(e.error.code ?? '');
  w.str(e.error.class ?? '');
  w.str(e.error.message ?? '');
  w.str(e.origin.topic);
  w.u32(e.origin.partition);
  w.u64Text(e.origin.offset);
  w.u64(e.receivedAt);
}

export function runRow(w: RowBinaryWriter, r: RunRecord): void {
  w.str(r.workflow);
  w.str(r.correlationId);
  w.str(r.runId);
  w.str(r.owner);
  w.u32(r.partition);
  w.u8(RUN_STATE[r.state]);
  w.u64(r.startedAt);
  w.u64(r.deadlineAt);
  w.u64(r.completedAt);
  w.u8(r.deadlineMissed ? 1 : 0);
  w.strings(r.missingSteps);
  w.strings(r.failedSteps);
  w.u32(r.eventCount);
  w.u64(r.lastEventAt);
  w.u64(r.version);
}

export function spanRow(w: RowBinaryWriter, s: SpanRecord): void {
  w.str(s.correlationId);
  w.str(s.runId);
  w.str(s.workflow);
  w.str(s.step);
  w.u8(SPAN_KIND[s.kind]);
  w.u8(SPAN_STATUS[s.status]);
  w.str(s.source);
  w.str(s.eventId);
  w.u64(s.runStartedAt);
  w.u64(s.startAt);
  w.u64(s.endAt);
  w.u64(Math.max(0, s.endAt - s.startAt));
  w.u64(s.sinceTriggerMs);
  w.str(s.errorCode);
  w.str(s.errorClass);
  w.u64(s.version);
}
