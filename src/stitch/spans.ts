import type { SpanRecord, StepOutcome } from '../domain/records.ts';
import type { EmittedSpan, WorkflowRun } from './run.ts';

/** Every span of a run as it stands: the trigger's, then each step's in event-time order. */
export function runSpans(run: WorkflowRun): SpanRecord[] {
  const spans = [triggerSpan(run)];
  let previous = run.startedAt;
  for (const outcome of orderedOutcomes(run)) {
    spans.push(stepSpan(run, outcome, Math.min(previous, outcome.time)));
    previous = Math.max(previous, outcome.time);
  }
  return spans;
}

/**
 * Appends the spans of a run that changed since they were last handed out (runSpans' spans,
 * in its order). Called at every drain of a changed run, so only changed spans are built.
 */
export function changedSpans(run: WorkflowRun, out: SpanRecord[]): void {
  const emitted = (run.emittedSpans ??= new Map());
  if (isNew(emitted, 'trigger', run.startedAt, run.triggerId)) out.push(triggerSpan(run));
  let previous = run.startedAt;
  for (const outcome of orderedOutcomes(run)) {
    const start = Math.min(previous, outcome.time);
    previous = Math.max(previous, outcome.time);
    if (isNew(emitted, outcome.name, start, outcome)) out.push(stepSpan(run, outcome, start));
  }
}

/** True, and remembered, when the span of `step` starts or ends differently from when last handed out. */
function isNew(emitted: Map<string, EmittedSpan>, step: string, startAt: number, end: StepOutcome | string): boolean {
  const last = emitted.get(step);
  if (last !== undefined && last.startAt === startAt && last.end === end) return false;
  emitted.set(step, { startAt, end });
  return true;
}

/** Outcomes by event time, ties by step name; no copy or sort for a run with one step or none. */
function orderedOutcomes(run: WorkflowRun): Iterable<StepOutcome> {
  if (run.outcomes.size < 2) return run.outcomes.values();
  return [...run.outcomes.values()].sort((a, b) => a.time - b.time || a.name.localeCompare(b.name));
}

/** What ends a span: a step's outcome, or for the trigger's span the trigger itself. */
type SpanEnd = Omit<StepOutcome, 'kind'> & { kind: SpanRecord['kind'] };

function triggerSpan(run: WorkflowRun): SpanRecord {
  const trigger: SpanEnd = { name: 'trigger', kind: 'trigger', status: 'done', time: run.startedAt, source: run.definition.trigger.source, eventId: run.triggerId };
  return stepSpan(run, trigger, run.startedAt);
}

/** Every field spelled out rather than spread from a shared base: one object shape, built in one step. */
function stepSpan(run: WorkflowRun, end: SpanEnd, startAt: number): SpanRecord {
  return {
    runId: run.runId,
    workflow: run.definition.name,
    correlationId: run.correlationId,
    runStartedAt: run.startedAt,
    version: run.version,
    step: end.name,
    kind: end.kind,
    status: end.status,
    source: end.source,
    eventId: end.eventId,
    startAt,
    endAt: end.time,
    sinceTriggerMs: end.time - run.startedAt,
    errorCode: end.error?.code ?? '',
    errorClass: end.error?.class ?? '',
  };
}
