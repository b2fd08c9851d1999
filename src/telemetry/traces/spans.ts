import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type SpanContext, type SpanStatus } from '@opentelemetry/api';
import { hrTimeDuration, millisToHrTime } from '@opentelemetry/core';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';
import type { BusinessTrace, TraceAttempt, TraceRedelivery, TraceStep } from '../../domain/business-trace.ts';
import type { EventError } from '../../domain/event.ts';
import type { RunRecord } from '../../domain/records.ts';
import {
  ATTR_CLOUDEVENTS_EVENT_ID,
  ATTR_CLOUDEVENTS_EVENT_SOURCE,
  ATTR_CLOUDEVENTS_EVENT_TYPE,
  ATTR_ERROR_TYPE,
  ATTR_EXCEPTION_MESSAGE,
  ATTR_SERVICE_NAME,
  EVENT_ATTEMPT,
  EVENT_DEADLINE,
  EVENT_REDELIVERY,
  SEAMWATCH,
} from './attributes.ts';
import { businessSpanId, businessTraceId } from './ids.ts';

export const BUSINESS_TRACE_SCOPE = { name: 'seamwatch.business-traces', version: '1' };

/** Resources are compared by identity when spans are grouped for export: one object per system. */
const MAX_RESOURCES = 1_000;

/**
 * Turns a stitched run into finished spans with their historical times and derived IDs: a root
 * span for the run (in the trigger's system) and one child span per step, each in the resource
 * of the system that reported it, so one trace crosses several services.
 */
export class BusinessSpanBuilder {
  private readonly resources = new Map<string, Resource>();
  private readonly extraResource: Attributes;

  constructor(extraResource: Attributes = {}) {
    this.extraResource = extraResource;
  }

  spans(trace: BusinessTrace): ReadableSpan[] {
    const { run } = trace;
    const traceId = businessTraceId(run.workflow, run.correlationId);
    const rootId = businessSpanId(run.workflow, run.correlationId, '');
    const root = context(traceId, rootId);
    const runAttributes: Attributes = { [SEAMWATCH.workflow]: run.workflow, [SEAMWATCH.correlationId]: run.correlationId };
    const rootEvents = [...attemptEvents(trace.trigger.attempts, trace.trigger.eventId), ...redeliveryEvents(trace.trigger.redeliveries, trace.trigger.attempts)];
    const deadlinePassed = run.deadlineMissed || run.state === 'deadline_missed';
    if (deadlinePassed) rootEvents.push({ name: EVENT_DEADLINE, time: millisToHrTime(run.deadlineAt), attributes: { [SEAMWATCH.missingSteps]: run.missingSteps }, droppedAttributesCount: 0 });
    const spans: ReadableSpan[] = [
      finished({
        name: run.workflow,
        context: root,
        resource: this.resource(trace.trigger.source),
        start: run.startedAt,
        end: runEnd(trace),
        status: runStatus(run),
        attributes: {
          ...runAttributes,
          [SEAMWATCH.runId]: run.runId,
          [SEAMWATCH.owner]: run.owner,
          [SEAMWATCH.verdict]: run.state,
          [SEAMWATCH.deadline]: new Date(run.deadlineAt).toISOString(),
          [SEAMWATCH.deadlineMissed]: run.deadlineMissed,
          [SEAMWATCH.missingSteps]: run.missingSteps,
          [SEAMWATCH.failedSteps]: run.failedSteps,
          [SEAMWATCH.eventCount]: run.eventCount,
          [ATTR_CLOUDEVENTS_EVENT_ID]: trace.trigger.eventId,
          [ATTR_CLOUDEVENTS_EVENT_SOURCE]: trace.trigger.source,
          ...(trace.trigger.type ? { [ATTR_CLOUDEVENTS_EVENT_TYPE]: trace.trigger.type } : {}),
          ...(trace.droppedAttempts > 0 ? { [SEAMWATCH.attemptsDropped]: trace.droppedAttempts } : {}),
        },
        events: rootEvents,
      }),
    ];
    for (const step of trace.steps) {
      spans.push(
        finished({
          name: step.name,
          context: context(traceId, businessSpanId(run.workflow, run.correlationId, step.name)),
          parent: root,
          resource: this.resource(step.source),
          start: step.startAt,
          end: step.endAt,
          status: step.status === 'failed' ? { code: SpanStatusCode.ERROR, message: errorSummary(step.error) ?? 'failed' } : { code: SpanStatusCode.UNSET },
          attributes: { ...runAttributes, ...stepAttributes(step) },
          events: [...attemptEvents(step.attempts, step.eventId), ...redeliveryEvents(step.redeliveries, step.attempts)],
        }),
      );
    }
    return spans;
  }

  private resource(source: string): Resource {
    let resource = this.resources.get(source);
    if (!resource) {
      if (this.resources.size >= MAX_RESOURCES) this.resources.clear();
      resource = resourceFromAttributes({ ...this.extraResource, [ATTR_SERVICE_NAME]: source });
      this.resources.set(source, resource);
    }
    return resource;
  }
}

function stepAttributes(step: TraceStep): Attributes {
  return {
    [SEAMWATCH.step]: step.name,
    [SEAMWATCH.stepKind]: step.kind,
    [SEAMWATCH.stepStatus]: step.status,
    [SEAMWATCH.attempts]: step.attempts.length,
    [SEAMWATCH.redeliveries]: step.redeliveries.length,
    [ATTR_CLOUDEVENTS_EVENT_ID]: step.eventId,
    [ATTR_CLOUDEVENTS_EVENT_SOURCE]: step.source,
    ...(step.eventType ? { [ATTR_CLOUDEVENTS_EVENT_TYPE]: step.eventType } : {}),
    ...(step.status === 'failed' ? { [ATTR_ERROR_TYPE]: errorType(step.error) } : {}),
    ...errorAttributes(step.error),
  };
}

/**
 * Every event but a lone successful one is worth a mark: failed attempts, attempts that
 * reported an error, and each attempt after the first (a retry).
 */
function attemptEvents(attempts: readonly TraceAttempt[], decidingEventId: string): TimedEvent[] {
  if (attempts.length <= 1 && !attempts.some((a) => a.status === 'failed' || hasError(a.error))) return [];
  return attempts.map((a, i) => ({
    name: EVENT_ATTEMPT,
    time: millisToHrTime(a.time),
    attributes: {
      [SEAMWATCH.attemptNumber]: i + 1,
      [SEAMWATCH.attemptStatus]: a.status,
      [ATTR_CLOUDEVENTS_EVENT_ID]: a.eventId,
      [ATTR_CLOUDEVENTS_EVENT_SOURCE]: a.source,
      ...(a.type ? { [ATTR_CLOUDEVENTS_EVENT_TYPE]: a.type } : {}),
      ...(a.status === 'failed' || hasError(a.error) ? { [ATTR_ERROR_TYPE]: errorType(a.error) } : {}),
      ...errorAttributes(a.error),
      ...(a.eventId === decidingEventId ? { 'seamwatch.attempt.deciding': true } : {}),
    },
    droppedAttributesCount: 0,
  }));
}

/** A redelivery is marked at its event's time (it is the same event), with when it came again. */
function redeliveryEvents(redeliveries: readonly TraceRedelivery[], attempts: readonly TraceAttempt[]): TimedEvent[] {
  return redeliveries.map((r) => {
    const first = attempts.find((a) => a.source === r.source && a.eventId === r.eventId);
    return {
      name: EVENT_REDELIVERY,
      time: millisToHrTime(first?.time ?? r.receivedAt),
      attributes: { [ATTR_CLOUDEVENTS_EVENT_ID]: r.eventId, [ATTR_CLOUDEVENTS_EVENT_SOURCE]: r.source, [SEAMWATCH.receivedAt]: new Date(r.receivedAt).toISOString() },
      droppedAttributesCount: 0,
    };
  });
}

function hasError(error: EventError | undefined): boolean {
  return Boolean(error && (error.code || error.class || error.message));
}

/** `error.type`: the error class the automation reported, else its code, else "failed". */
function errorType(error: EventError | undefined): string {
  return error?.class || error?.code || 'failed';
}

function errorAttributes(error: EventError | undefined): Attributes {
  if (!error) return {};
  return {
    ...(error.code ? { [SEAMWATCH.errorCode]: error.code } : {}),
    ...(error.class ? { [SEAMWATCH.errorClass]: error.class } : {}),
    ...(error.message ? { [ATTR_EXCEPTION_MESSAGE]: error.message } : {}),
  };
}

function errorSummary(error: EventError | undefined): string | undefined {
  if (!hasError(error)) return undefined;
  return [error!.class, error!.code, error!.message].filter(Boolean).join(': ');
}

function runStatus(run: RunRecord): SpanStatus {
  switch (run.state) {
    case 'completed':
      return run.deadlineMissed ? { code: SpanStatusCode.ERROR, message: 'completed after its deadline' } : { code: SpanStatusCode.OK };
    case 'failed':
      return { code: SpanStatusCode.ERROR, message: `failed: ${run.failedSteps.join(', ')}` };
    case 'deadline_missed':
      return { code: SpanStatusCode.ERROR, message: `deadline missed, waiting for ${run.missingSteps.join(', ')}` };
    case 'compensated':
      return { code: SpanStatusCode.ERROR, message: 'compensated' };
    case 'open':
      return { code: SpanStatusCode.UNSET };
  }
}

/** The run lasts to its last step, or to its deadline when that passed without completion. */
function runEnd(trace: BusinessTrace): number {
  const { run } = trace;
  let end = Math.max(run.startedAt, run.lastEventAt, ...trace.steps.map((s) => s.endAt));
  if (run.state === 'deadline_missed' || run.state === 'open') end = Math.max(end, run.deadlineAt);
  return end;
}

function context(traceId: string, spanId: string): SpanContext {
  return { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: false };
}

interface SpanParts {
  name: string;
  context: SpanContext;
  parent?: SpanContext;
  resource: Resource;
  start: number;
  end: number;
  status: SpanStatus;
  attributes: Attributes;
  events: TimedEvent[];
}

function finished(parts: SpanParts): ReadableSpan {
  const startTime = millisToHrTime(parts.start);
  const endTime = millisToHrTime(Math.max(parts.start, parts.end));
  return {
    name: parts.name,
    kind: SpanKind.INTERNAL,
    spanContext: () => parts.context,
    ...(parts.parent ? { parentSpanContext: parts.parent } : {}),
    startTime,
    endTime,
    duration: hrTimeDuration(startTime, endTime),
    status: parts.status,
    attributes: parts.attributes,
    links: [],
    events: parts.events,
    ended: true,
    resource: parts.resource,
    instrumentationScope: BUSINESS_TRACE_SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}
