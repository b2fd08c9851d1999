import { createHash } from 'node:crypto';

/**
 * Trace and span IDs of a business trace, derived from what identifies the run, so that
 * exporting a run again (a later verdict, a restart) lands in the same trace with the same
 * spans: the trace ID is the first 16 bytes of SHA-256("<workflow>\0<correlation ID>"), a span ID
 * the first 8 bytes of SHA-256("<workflow>\0<correlation ID>\0<step>") ("" for the run's root).
 */
export function businessTraceId(workflow: string, correlationId: string): string {
  return nonZero(digest(`${workflow}\u0000${correlationId}`).subarray(0, 16));
}

export function businessSpanId(workflow: string, correlationId: string, step: string): string {
  return nonZero(digest(`${workflow}\u0000${correlationId}\u0000${step}`).subarray(0, 8));
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** All-zero IDs are invalid in W3C trace context; a hash gives one with odds of 2^-64, but never say never. */
function nonZero(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}
