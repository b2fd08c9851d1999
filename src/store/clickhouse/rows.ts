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

export function eventLine(e: EventRecord): string {
  return `{"correlation_id":${str(e.correlationId)},"source":${str(e.source)},"event_id":${str(e.id)},"type":${str(e.type)},"event_time_ms":${e.time},"subject":${str(e.subject)},"data":${str(e.data)},"error_code":${str(e.error.code ?? '')},"error_class":${str(e.error.class ?? '')},"error_message":${str(e.error.message ?? '')},"topic":${str(e.origin.topic)},"partition":${e.origin.partition},"offset":${e.origin.offset},"received_at_ms":${e.receivedAt}}\n`;
}

export function runLine(r: RunRecord): string {
  return `{"workflow":${str(r.workflow)},"correlation_id":${str(r.correlationId)},"run_id":${str(r.runId)},"owner":${str(r.owner)},"partition":${r.partition},"state":"${r.state}","started_at_ms":${r.startedAt},"deadline_at_ms":${r.deadlineAt},"completed_at_ms":${r.completedAt},"deadline_missed":${r.deadlineMissed ? 1 : 0},"missing_steps":${str(r.missingSteps)},"failed_steps":${str(r.failedSteps)},"event_count":${r.eventCount},"last_event_at_ms":${r.lastEventAt},"version":${r.version}}\n`;
}

export function spanLine(s: SpanRecord): string {
  return `{"correlation_id":${str(s.correlationId)},"run_id":${str(s.runId)},"workflow":${str(s.workflow)},"step":${str(s.step)},"kind":"${s.kind}","status":"${s.status}","source":${str(s.source)},"event_id":${str(s.eventId)},"run_started_at_ms":${s.runStartedAt},"start_ms":${s.startAt},"end_ms":${s.endAt},"duration_ms":${Math.max(0, s.endAt - s.startAt)},"since_trigger_ms":${s.sinceTriggerMs},"error_code":${str(s.errorCode)},"error_class":${str(s.errorClass)},"version":${s.version}}\n`;
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
