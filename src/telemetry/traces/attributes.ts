/**
 * Attribute names of business traces. OpenTelemetry's semantic conventions where they have a
 * name (stable ones from the package; the CloudEvents ones are still incubating, and the
 * package's advice is to copy incubating names rather than import them), `seamwatch.` otherwise.
 */
export { ATTR_ERROR_TYPE, ATTR_EXCEPTION_MESSAGE, ATTR_SERVICE_NAME, ATTR_SERVICE_NAMESPACE } from '@opentelemetry/semantic-conventions';

export const ATTR_CLOUDEVENTS_EVENT_ID = 'cloudevents.event_id';
export const ATTR_CLOUDEVENTS_EVENT_SOURCE = 'cloudevents.event_source';
export const ATTR_CLOUDEVENTS_EVENT_TYPE = 'cloudevents.event_type';

export const SEAMWATCH = {
  correlationId: 'seamwatch.correlation_id',
  workflow: 'seamwatch.workflow',
  runId: 'seamwatch.run_id',
  owner: 'seamwatch.owner',
  verdict: 'seamwatch.verdict',
  deadline: 'seamwatch.deadline',
  deadlineMissed: 'seamwatch.deadline_missed',
  missingSteps: 'seamwatch.missing_steps',
  failedSteps: 'seamwatch.failed_steps',
  eventCount: 'seamwatch.event_count',
  attemptsDropped: 'seamwatch.attempts_dropped',
  step: 'seamwatch.step',
  stepKind: 'seamwatch.step.kind',
  stepStatus: 'seamwatch.step.status',
  attempts: 'seamwatch.step.attempts',
  redeliveries: 'seamwatch.step.redeliveries',
  attemptNumber: 'seamwatch.attempt.number',
  attemptStatus: 'seamwatch.attempt.status',
  errorCode: 'seamwatch.error.code',
  errorClass: 'seamwatch.error.class',
  receivedAt: 'seamwatch.received_at',
} as const;

/** Span event names. */
export const EVENT_ATTEMPT = 'seamwatch.attempt';
export const EVENT_REDELIVERY = 'seamwatch.redelivery';
export const EVENT_DEADLINE = 'seamwatch.deadline';
