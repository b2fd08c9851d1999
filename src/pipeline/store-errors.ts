import { ClickHouseError } from '@clickhouse/client';

/**
 * ClickHouse error codes that pass: overload, timeouts, network. Others mean bad rows or schema.
 * On a cluster also: no replica of a shard reachable (279) and ZooKeeper away (225).
 */
const TRANSIENT_CODES = new Set(['159', '160', '164', '202', '203', '209', '210', '225', '236', '241', '242', '252', '279', '319', '425', '999']);

/** Decides whether a failed store write is worth retrying as it is. */
export function isRetryableStoreError(error: unknown): boolean {
  if (error instanceof ClickHouseError) return TRANSIENT_CODES.has(String(error.code));
  return true;
}
