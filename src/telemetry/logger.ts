import { Writable } from 'node:stream';
import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Longest string a log field keeps; longer ones are cut with a note of their size. */
export const LOG_FIELD_MAX_CHARS = 1024;
const MAX_DEPTH = 5;
const MAX_ITEMS = 100;

/** Cuts a string past `max` characters (never inside a surrogate pair), saying how long it was. */
function boundString(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}… [truncated: ${text.length} chars]`;
}

/**
 * A log line's fields with every long string cut (`…[truncated: N chars]`), objects past a fixed
 * depth and arrays past a fixed width summarised. Log fields come from the outside world (a
 * correlation ID, a producer's error message, a dead letter's detail), so one hostile payload
 * must not become a 100 kB log line. Errors are serialised first (pino's `err` shape), then cut.
 */
export function boundLogFields(value: unknown, max = LOG_FIELD_MAX_CHARS, depth = 0): unknown {
  if (typeof value === 'string') return boundString(value, max);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[depth limit]';
  if (value instanceof Error) return boundLogFields({ ...stdSerializers.err(value) }, max, depth);
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((item) => boundLogFields(item, max, depth + 1));
    if (value.length > MAX_ITEMS) items.push(`… ${value.length - MAX_ITEMS} more items`);
    return items;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  // Only plain records are walked; other objects (Dates, Buffers, class instances) are left to pino.
  if (prototype !== Object.prototype && prototype !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = boundLogFields(item, max, depth + 1);
  return out;
}

/**
 * JSON logs on stdout (or `destination`); secrets are redacted by key wherever they appear, and
 * every field — the line's own and a child logger's bindings — is bounded (boundLogFields).
 */
export function createLogger(level: string, destination?: DestinationStream | Writable): Logger {
  const options = {
    level,
    base: { service: 'seamwatch' },
    redact: { paths: ['password', '*.password', '*.*.password', 'routingKey', '*.routingKey', 'token', '*.token'], censor: '[redacted]' },
    formatters: { log: (object: Record<string, unknown>) => boundLogFields(object) as Record<string, unknown> },
    // The formatter has already made an Error a plain, bounded record; serialising it again would lose its type.
    serializers: { err: (value: unknown) => (value instanceof Error ? boundLogFields(value) : value) },
  };
  const logger = destination ? pino(options, destination as DestinationStream) : pino(options);
  // pino applies no formatter to a child's bindings, so they are bounded here; children inherit this child().
  const boundedChild = function (this: Logger, bindings: Record<string, unknown>, childOptions?: object) {
    return Object.getPrototypeOf(logger).child.call(this, boundLogFields(bindings), childOptions) as Logger;
  };
  Object.defineProperty(logger, 'child', { value: boundedChild, writable: true, configurable: true });
  return logger;
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
