import type { BusinessTrace, TraceAttempt, TraceStep } from '../domain/business-trace.ts';
import { historyOf, redeliveriesOf, toRunRecord, type RunHistoryEntry, type WorkflowRun } from './run.ts';
import { runSpans } from './spans.ts';

/**
 * A run as a trace, as it stands: its record (with the verdict), the trigger, and each step
 * from the step before it to the event that decided it, with every event the step took in
 * (failed attempts before a success, retries) and its redeliveries. Pure: reads the run only.
 */
export function businessTrace(run: Readonly<WorkflowRun>): BusinessTrace {
  const history = historyOf(run);
  const attemptsOf = (step: string): TraceAttempt[] =>
    history
      .filter((h) => h.step === step)
      .sort((a, b) => a.time - b.time || a.eventId.localeCompare(b.eventId))
      .map(attempt);
  const redeliveriesOfStep = (step: string) => redeliveriesOf(run).filter((r) => r.step === step).map(({ source, eventId, receivedAt }) => ({ source, eventId, receivedAt }));
  const typeOf = (source: string, eventId: string) => history.find((h) => h.source === source && h.eventId === eventId)?.type ?? '';
  const steps: TraceStep[] = [];
  for (const span of runSpans(run as WorkflowRun)) {
    if (span.kind === 'trigger') continue;
    const outcome = run.outcomes.get(span.step);
    steps.push({
      name: span.step,
      kind: span.kind,
      status: span.status,
      source: span.source,
      eventId: span.eventId,
      eventType: typeOf(span.source, span.eventId),
      startAt: span.startAt,
      endAt: span.endAt,
      ...(outcome?.error ? { error: outcome.error } : {}),
      attempts: attemptsOf(span.step),
      redeliveries: redeliveriesOfStep(span.step),
    });
  }
  return {
    run: toRunRecord(run as WorkflowRun),
    trigger: {
      source: run.definition.trigger.source,
      eventId: run.triggerId,
      type: typeOf(run.definition.trigger.source, run.triggerId),
      time: run.startedAt,
      attempts: attemptsOf('trigger'),
      redeliveries: redeliveriesOfStep('trigger'),
    },
    steps,
    droppedAttempts: run.progress?.historyDropped ?? 0,
  };
}

function attempt(entry: RunHistoryEntry): TraceAttempt {
  const { step: _step, ...rest } = entry;
  return rest;
}
