import type { EventOrigin } from './event.ts';

/** Why a message could not become a workflow event. A short fixed list, used as a metric label. */
export type DeadLetterReason =
  | 'not-json'
  | 'not-cloudevent'
  | 'missing-field'
  | 'invalid-field'
  | 'mapping-failed'
  /** Event time further ahead of the wall clock than `pipeline.maxTimeAhead`: it would drag the watermark with it. */
  | 'time-in-future'
  /** A correlation ID, id, source or type longer than `pipeline.maxFieldLength`. */
  | 'field-too-long'
  /** The event names a source other than the one configured for the topic it came on. */
  | 'source-mismatch'
  /** An HTTP delivery whose webhook signature is missing, wrong or outside the timestamp tolerance. */
  | 'bad-signature';

/** A message that could not be decoded or mapped, or broke the event contract, kept with enough context to replay it. */
export interface DeadLetter {
  reason: DeadLetterReason;
  detail: string;
  origin: EventOrigin;
  /** The message value as it arrived (null for a tombstone). */
  raw: Buffer | null;
  headers: Record<string, string>;
  key: string | null;
  /** Wall-clock ms when it was dead-lettered. */
  at: number;
}

/** Where dead letters go besides the store (the Kafka dead-letter topic). */
export interface DeadLetterSink {
  send(letters: readonly DeadLetter[]): Promise<void>;
}
