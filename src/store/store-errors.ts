import { ClickHouseError } from '@clickhouse/client';

/**
 * ClickHouse error codes that pass: overload, timeouts, network. Others mean bad rows or schema.
 * On a cluster also: no replica of a shard reachable (279) and ZooKeeper away (225).
 */
const TRANSIENT_CODES = new Set(['159', '160', '164', '202', '203', '209', '210', '225', '236', '241', '242', '252', '279', '319', '425', '999']);

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

/** Decides whether a failed store call is worth retrying as it is. */
export function isRetryableStoreError(error: unknown): boolean {
  const code = storeErrorCode(error);
  return code === undefined || TRANSIENT_CODES.has(code);
}
