import { ClickHouseError } from '@clickhouse/client';

/**
 * ClickHouse error codes that pass: overload, timeouts, network. Others mean bad rows or schema
 * (or a read-only user, 164). On a cluster also: no replica of a shard reachable (279),
 * ZooKeeper away (225), a replica's table read-only while it lost ZooKeeper (242).
 */
const TRANSIENT_CODES = new Set(['159', '160', '202', '203', '209', '210', '225', '236', '241', '242', '252', '279', '319', '425', '999']);

/** Failures on the way to a server (Node's error codes), and the client's own timeout. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
const NETWORK_MESSAGE = /socket hang up|timeout|ECONNREFUSED|ECONNRESET|EPIPE/i;

/**
 * The server's error code: the client parses it from current servers' answers; from 18.16's
 * ("Code: 193, e.displayText() = DB::Exception: …") it leaves a plain Error, so it is read from
 * the message. Undefined for what never reached a server (refused, reset, timed out).
 */
export function storeErrorCode(error: unknown): string | undefined {
  if (error instanceof ClickHouseError) return String(error.code);
  if (error instanceof Error) return /^Code: (\d+), e\.displayText\(\)/.exec(error.message)?.[1];
  return undefined;
}

/**
 * Decides whether a failed store call is worth retrying as it is: a server's answer by its code;
 * without one, only a failure on the way (refused, reset, timed out, a name not resolving yet,
 * as while a pod's ClickHouse starts). Anything else — a proxy's error page, a TLS error, a bug —
 * does not pass by asking again.
 */
export function isRetryableStoreError(error: unknown): boolean {
  const code = storeErrorCode(error);
  if (code !== undefined) return TRANSIENT_CODES.has(code);
  if (!(error instanceof Error)) return false;
  const errno = (error as NodeJS.ErrnoException).code;
  return (errno !== undefined && NETWORK_CODES.has(errno)) || NETWORK_MESSAGE.test(error.message) || (error.cause !== undefined && isRetryableStoreError(error.cause));
}
