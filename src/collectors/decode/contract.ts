import { formatDuration } from '../../domain/duration.ts';
import type { WorkflowEvent } from '../../domain/event.ts';
import { reject, type DecodeResult } from './message.ts';

/** What a decoded event must also satisfy before it may touch runs or event time. */
export interface EventContract {
  /** The source configured for the topic the event came on: the only one that may speak there. */
  source: string;
  /** Longest correlation ID, id, source or type accepted (characters). */
  maxFieldLength: number;
  /** How far ahead of the wall clock an event time may be (ms). */
  maxTimeAhead: number;
}

const BOUNDED_FIELDS = [
  ['correlationid', 'correlationId'],
  ['id', 'id'],
  ['source', 'source'],
  ['type', 'type'],
] as const;

/** How much of a foreign value a detail quotes: enough to recognise it, never a whole payload. */
const QUOTE_CHARS = 64;

function quote(value: string): string {
  return JSON.stringify(value.length > QUOTE_CHARS ? `${value.slice(0, QUOTE_CHARS)}…` : value);
}

/** Roughly how far, in the largest whole unit: "1095d", not 94608000123ms. */
function roughly(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  }
  return `${ms}ms`;
}

function describeTime(ms: number): string {
  // A unix-ms value read as seconds lands tens of thousands of years ahead: past what Date prints.
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms since the epoch`;
}

/**
 * Checks a decoded event against the contract, given the wall clock: decoders stay pure and
 * clock-free, this is the one place that compares event time with `now`. A failed decode passes
 * through unchanged. The checks go from cheapest to the one that needs the clock, and lengths
 * come first so that no later detail quotes an oversized value.
 */
export function checkContract(result: DecodeResult, contract: EventContract, now: number): DecodeResult {
  if (!result.ok) return result;
  const event: WorkflowEvent = result.event;
  for (const [name, field] of BOUNDED_FIELDS) {
    const length = event[field].length;
    if (length > contract.maxFieldLength) return reject('field-too-long', `"${name}" is ${length} characters long (at most ${contract.maxFieldLength})`);
  }
  if (event.source !== contract.source) {
    return reject('source-mismatch', `source ${quote(event.source)} on the topic of source "${contract.source}": a source speaks only on its own topic`);
  }
  const ahead = event.time - now;
  if (ahead > contract.maxTimeAhead) {
    return reject('time-in-future', `time ${describeTime(event.time)} is ${roughly(ahead)} ahead of the wall clock (at most ${formatDuration(contract.maxTimeAhead)})`);
  }
  return result;
}
