/** Where a message came from, so that a dead letter or a trace can point back at it. */
export interface EventOrigin {
  topic: string;
  partition: number;
  offset: string;
}

/** An error an automation reported with an event (a 429 from billing, a validation error). */
export interface EventError {
  code?: string;
  class?: string;
  message?: string;
}

/**
 * The canonical workflow event every source is decoded or mapped to. Its identity, the
 * idempotency key, is (source, id): a redelivery carries the same pair.
 */
export interface WorkflowEvent {
  source: string;
  id: string;
  type: string;
  /** Event time, epoch milliseconds. */
  time: number;
  correlationId: string;
  subject?: string;
  data?: unknown;
  /**
   * `data` as the JSON text it came in, when a decoder had it whole (a binary-mode CloudEvent's
   * value): stored as it came instead of being written out again.
   */
  dataText?: string;
  error?: EventError;
  origin: EventOrigin;
}

/** The idempotency key of an event as one string. */
export function eventKey(event: Pick<WorkflowEvent, 'source' | 'id'>): string {
  return `${event.source}\u0000${event.id}`;
}
