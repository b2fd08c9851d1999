import { describe, expect, it } from 'vitest';
import { ClickHouseError } from '@clickhouse/client';
import { isRetryableStoreError, storeErrorCode } from '../../src/store/store-errors.ts';

describe('which store errors are worth retrying', () => {
  it('reads the code from an 18.16 server answer, which the client leaves a plain Error', () => {
    const wrongPassword = new Error('Code: 193, e.displayText() = DB::Exception: Wrong password for user default, e.what() = DB::Exception\n');
    expect(storeErrorCode(wrongPassword)).toBe('193');
    expect(isRetryableStoreError(wrongPassword)).toBe(false);
    const timeout = new Error('Code: 159, e.displayText() = DB::Exception: Watching task /clickhouse/task_queue/ddl/query-0000000001 is executing longer than distributed_ddl_task_timeout, e.what() = DB::Exception\n');
    expect(isRetryableStoreError(timeout)).toBe(true);
  });

  it('takes the code of a current server from the client', () => {
    const unknownTable = new ClickHouseError({ message: 'Table x.y does not exist', code: '60', type: 'UNKNOWN_TABLE' });
    expect(isRetryableStoreError(unknownTable)).toBe(false);
    expect(isRetryableStoreError(new ClickHouseError({ message: 'Too many simultaneous queries', code: '202', type: 'TOO_MANY_SIMULTANEOUS_QUERIES' }))).toBe(true);
  });

  it('retries what never reached a server: refused, reset, timed out, a name not resolving yet', () => {
    for (const message of ['connect ECONNREFUSED 127.0.0.1:18123', 'socket hang up', 'Timeout error.']) expect(isRetryableStoreError(new Error(message))).toBe(true);
    expect(isRetryableStoreError(Object.assign(new Error('getaddrinfo ENOTFOUND clickhouse'), { code: 'ENOTFOUND' }))).toBe(true);
    expect(isRetryableStoreError(new Error('request failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) }))).toBe(true);
  });

  it("does not retry what asking again cannot fix: a proxy's error page, a TLS error, a bug, a read-only user", () => {
    expect(isRetryableStoreError(new Error('<html><body>403 Forbidden</body></html>'))).toBe(false);
    expect(isRetryableStoreError(Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }))).toBe(false);
    expect(isRetryableStoreError(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(false);
    expect(isRetryableStoreError(new Error('Code: 164, e.displayText() = DB::Exception: default: Cannot execute query in readonly mode, e.what() = DB::Exception'))).toBe(false);
    // A message that merely mentions a code is not a server's answer.
    expect(storeErrorCode(new Error('upstream said Code: 193'))).toBeUndefined();
  });
});
