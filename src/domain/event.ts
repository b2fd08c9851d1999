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

/**
 * `${source}\u0000` by source, made once. Built afresh it was a new string in every key (24
 * bytes for "crm") besides the 32-byte cons string joining it to the event id, and the dedupe
 * window holds 500k keys by default. Sources are few; the bound keeps made-up ones out.
 */
const keyPrefixes = new Map<string, string>();
const MAX_KEY_PREFIXES = 256;

/** The idempotency key of an event as one string. */
export function eventKey(event: Pick<WorkflowEvent, 'source' | 'id'>): string {
  let prefix = keyPrefixes.get(event.source);
  if (prefix === undefined) {
    prefix = `${event.source}\u0000`;
    if (keyPrefixes.size < MAX_KEY_PREFIXES) keyPrefixes.set(event.source, prefix);
  }
  return prefix + event.id;
}
