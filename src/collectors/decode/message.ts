import type { DeadLetterReason } from '../../domain/dead-letter.ts';
import type { EventOrigin, WorkflowEvent } from '../../domain/event.ts';

/** A message as any collector hands it over: Kafka, HTTP ingest or a replay file. */
export interface RawMessage {
  value: Buffer | null;
  headers: Record<string, string>;
  key: string | null;
  /** Broker/append time in epoch ms, the fallback when an event carries no time. */
  timestamp: number;
  origin: EventOrigin;
}

export type DecodeResult =
  | { ok: true; event: WorkflowEvent }
  | { ok: false; reason: DeadLetterReason; detail: string };

export type Decoder = (message: RawMessage) => DecodeResult;

export function reject(reason: DeadLetterReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

/**
 * RFC 3339 requires the offset: without one, Date.parse would read the time in the machine's
 * own time zone, and the same event would get a different time on another machine.
 */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 time; undefined when it is not one. */
export function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || !RFC3339.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

export function parseJson(value: Buffer): { ok: true; json: unknown; text: string } | { ok: false; detail: string } {
  try {
    const text = value.toString(); // UTF-8; with no argument Buffer#toString skips its encoding look-up
    return { ok: true, json: JSON.parse(text), text };
  } catch (error) {
    return { ok: false, detail: (error as Error).message };
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
