import type { DeadLetter } from '../../domain/dead-letter.ts';
import type { WorkflowEvent } from '../../domain/event.ts';
import type { EventRecord, RedeliveryRecord, RunRecord, RunState, SloOutcomeRecord, SpanRecord } from '../../domain/records.ts';

/** Records to JSONEachRow rows and back. Column names are the table's. */

/**
 * Records to JSONEachRow lines. Written by hand rather than through JSON.stringify of row
 * objects: ingest spends most of its time here, and strings are the only values that need
 * escaping. Column names are the table's.
 */
const str = JSON.stringify;

/*
 * The hot tables as JSONCompactEachRow, for the embedded engine (which takes no RowBinary through
 * chdb): values only, in the order of EVENT_COLUMNS, RUN_COLUMNS and SPAN_COLUMNS
 * (binary-rows.ts), which the INSERT names. Measured against JSONEachRow on chdb 3.4: half the
 * bytes, half the encoding and a third of the engine's parsing a row, since no key is named and
 * matched per value.
 */

export function eventValues(e: EventRecord): string {
  return `[${str(e.correlationId)},${str(e.source)},${str(e.id)},${str(e.type)},${e.time},${str(e.subject)},${str(e.data)},${str(e.error.code ?? '')},${str(e.error.class ?? '')},${str(e.error.message ?? '')},${str(e.origin.topic)},${e.origin.partition},${e.origin.offset},${e.receivedAt}]\n`;
}

export function runValues(r: RunRecord): string {
  return `[${str(r.workflow)},${str(r.correlationId)},${str(r.runId)},${str(r.owner)},${r.partition},"${r.state}",${r.startedAt},${r.deadlineAt},${r.completedAt},${r.deadlineMissed ? 1 : 0},${str(r.missingSteps)},${str(r.failedSteps)},${r.eventCount},${r.lastEventAt},${r.version}]\n`;
}

export function spanValues(s: SpanRecord): string {
  return `[${str(s.correlationId)},${str(s.runId)},${str(s.workflow)},${str(s.step)},"${s.kind}","${s.status}",${str(s.source)},${str(s.eventId)},${s.runStartedAt},${s.startAt},${s.endAt},${Math.max(0, s.endAt - s.startAt)},${s.sinceTriggerMs},${str(s.errorCode)},${str(s.errorClass)},${s.version}]\n`;
}

export function sloOutcomeLine(o: SloOutcomeRecord): string {
  return `{"slo":${str(o.slo)},"minute":${Math.floor(o.due / 60_000)},"run_id":${str(o.runId)},"workflow":${str(o.workflow)},"correlation_id":${str(o.correlationId)},"due_ms":${o.due},"good":${o.good ? 1 : 0},"version":${o.version}}\n`;
}

/**
 * The verdict of one (SLO, run) in slo_run_outcomes. `countedBefore` are the minutes the run was
 * counted at by earlier versions; they travel with the row so that a recount that never ran (a
 * write that died half-way) is still owed to them by the next write.
 */
export function sloRunOutcomeLine(o: SloOutcomeRecord, countedBefore: readonly number[]): string {
  const minute = Math.floor(o.due / 60_000);
  const counted = [...new Set([...countedBefore, minute])].sort((a, b) => a - b);
  return `{"slo":${str(o.slo)},"run_id":${str(o.runId)},"workflow":${str(o.workflow)},"correlation_id":${str(o.correlationId)},"minute":${minute},"due_ms":${o.due},"good":${o.good ? 1 : 0},"counted_minutes":[${counted.join(',')}],"version":${o.version}}\n`;
}

export function redeliveryLine(r: RedeliveryRecord): string {
  return `{"correlation_id":${str(r.correlationId)},"source":${str(r.source)},"event_id":${str(r.eventId)},"topic":${str(r.origin.topic)},"partition":${r.origin.partition},"offset":${r.origin.offset},"received_at_ms":${r.receivedAt}}\n`;
}

export function redeliveryFromRow(row: Record<string, unknown>): RedeliveryRecord {
  return {
    correlationId: String(row['correlation_id']),
    source: String(row['source']),
    eventId: String(row['event_id']),
    origin: { topic: String(row['topic']), partition: Number(row['partition']), offset: String(row['offset']) },
    receivedAt: Number(row['received_at_ms']),
  };
}

export function deadLetterLine(d: DeadLetter): string {
  const names = Object.keys(d.headers);
  return `${str({
    topic: d.origin.topic,
    partition: d.origin.partition,
    offset: d.origin.offset,
    at_ms: d.at,
    reason: d.reason,
    detail: d.detail,
    message_key: d.key ?? '',
    header_names: names,
    header_values: names.map((n) => d.headers[n]!),
    raw_base64: d.raw ? d.raw.toString('base64') : '',
  })}\n`;
}

/** UInt64 columns come back as strings in JSON formats. */
const n = (v: unknown) => Number(v);

export function eventFromRow(row: Record<string, unknown>): WorkflowEvent {
  const error = {
    ...(row['error_code'] ? { code: String(row['error_code']) } : {}),
    ...(row['error_class'] ? { class: String(row['error_class']) } : {}),
    ...(row['error_message'] ? { message: String(row['error_message']) } : {}),
  };
  const data = String(row['data'] ?? '');
  return {
    source: String(row['source']),
    id: String(row['event_id']),
    type: String(row['type']),
    time: n(row['event_time_ms']),
    correlationId: String(row['correlation_id']),
    ...(row['subject'] ? { subject: String(row['subject']) } : {}),
    ...(data ? { data: JSON.parse(data) as unknown } : {}),
    ...(Object.keys(error).length > 0 ? { error } : {}),
    origin: { topic: String(row['topic']), partition: n(row['partition']), offset: String(row['offset']) },
  };
}

export function eventRecordFromRow(row: Record<string, unknown>): EventRecord {
  const e = eventFromRow(row);
  return {
    source: e.source,
    id: e.id,
    type: e.type,
    time: e.time,
    correlationId: e.correlationId,
    subject: e.subject ?? '',
    data: String(row['data'] ?? ''),
    error: e.error ?? {},
    origin: e.origin,
    receivedAt: n(row['received_at_ms']),
  };
}

export function runFromRow(row: Record<string, unknown>): RunRecord {
  return {
    runId: String(row['run_id']),
    workflow: String(row['workflow']),
    owner: String(row['owner']),
    correlationId: String(row['correlation_id']),
    partition: n(row['partition']),
    state: row['state'] as RunState,
    startedAt: n(row['started_at_ms']),
    deadlineAt: n(row['deadline_at_ms']),
    completedAt: n(row['completed_at_ms']),
    deadlineMissed: n(row['deadline_missed']) === 1,
    missingSteps: row['missing_steps'] as string[],
    failedSteps: row['failed_steps'] as string[],
    eventCount: n(row['event_count']),
    lastEventAt: n(row['last_event_at_ms']),
    version: n(row['version']),
  };
}

export function spanFromRow(row: Record<string, unknown>): SpanRecord {
  return {
    runId: String(row['run_id']),
    workflow: String(row['workflow']),
    correlationId: String(row['correlation_id']),
    step: String(row['step']),
    kind: row['kind'] as SpanRecord['kind'],
    status: row['status'] as SpanRecord['status'],
    source: String(row['source']),
    eventId: String(row['event_id']),
    runStartedAt: n(row['run_started_at_ms']),
    startAt: n(row['start_ms']),
    endAt: n(row['end_ms']),
    sinceTriggerMs: n(row['since_trigger_ms']),
    errorCode: String(row['error_code']),
    errorClass: String(row['error_class']),
    version: n(row['version']),
  };
}
