import { describe, expect, it } from 'vitest';
import { classify, compileClassifier, errorClassificationSchema, type ErrorKind } from '../../src/alerts/detectors/error-class.ts';
import { formatPath } from '../../src/config/load.ts';
import type { EventError } from '../../src/domain/event.ts';

describe('classify: the built-in rules', () => {
  it.each<[EventError | undefined, ErrorKind]>([
    [{ code: '429' }, 'transient'],
    [{ code: '408' }, 'transient'],
    [{ code: '500' }, 'transient'],
    [{ code: '502' }, 'transient'],
    [{ code: '503' }, 'transient'],
    [{ code: '504' }, 'transient'],
    [{ code: ' 503 ' }, 'transient'],
    [{ code: 'ETIMEDOUT' }, 'transient'],
    [{ code: 'ESOCKETTIMEDOUT' }, 'transient'],
    [{ code: 'ECONNRESET' }, 'transient'],
    [{ code: 'lock_timeout' }, 'transient'],
    [{ code: 'rate_limit_exceeded' }, 'transient'],
    [{ class: 'timeout' }, 'transient'],
    [{ class: 'GatewayTimeout' }, 'transient'],
    [{ class: 'RequestTimedOut' }, 'transient'],
    [{ class: 'TIMED_OUT' }, 'transient'],
    [{ class: 'rate_limit_error' }, 'transient'],
    [{ class: 'Throttled' }, 'transient'],
    [{ class: 'ServiceUnavailable' }, 'transient'],
    [{ class: 'api_connection_error' }, 'transient'],
    [{ class: 'network' }, 'transient'],
    [{ code: '400' }, 'permanent'],
    [{ code: '401' }, 'permanent'],
    [{ code: '403' }, 'permanent'],
    [{ code: '404' }, 'permanent'],
    [{ code: '422' }, 'permanent'],
    [{ code: 'card_declined' }, 'permanent'],
    [{ code: 'invalid_request' }, 'permanent'],
    [{ class: 'validation' }, 'permanent'],
    [{ class: 'ValidationError' }, 'permanent'],
    [{ class: 'invalid_request_error' }, 'permanent'],
    [{ class: 'authentication_error' }, 'permanent'],
    [{ class: 'Unauthorized' }, 'permanent'],
    [{ class: 'Forbidden' }, 'permanent'],
    [{ class: 'permission_denied' }, 'permanent'],
    [{ class: 'not_found' }, 'permanent'],
    // A 4xx that is a timeout or a rate limit is still transient: transient rules come first.
    [{ code: '400', class: 'timeout' }, 'transient'],
    [{ code: '429', class: 'validation' }, 'transient'],
    [{ code: '5000' }, 'unknown'],
    [{ code: '5xx' }, 'unknown'],
    [{ code: '409' }, 'permanent'],
    [{ code: 'E_SOMETHING' }, 'unknown'],
    [{ class: 'SomethingWentWrong' }, 'unknown'],
    [{ message: 'timeout while talking to billing' }, 'unknown'],
    [{ code: '', class: '' }, 'unknown'],
    [{}, 'unknown'],
    [undefined, 'unknown'],
  ])('%j is %s', (error, kind) => {
    expect(classify(error)).toBe(kind);
  });
});

describe('classify: configured rules', () => {
  const config = errorClassificationSchema.parse({
    rules: [
      { code: '409', is: 'transient' },
      { code: '503', class: 'maintenance', is: 'permanent' },
      { class: 'Entitlement*Locked', is: 'transient' },
      { code: '4xx', class: 'quota*', is: 'transient' },
    ],
  });
  const custom = compileClassifier(config);

  it.each<[EventError, ErrorKind]>([
    [{ code: '409' }, 'transient'],
    [{ code: '503', class: 'maintenance' }, 'permanent'],
    [{ code: '503' }, 'transient'],
    [{ class: 'EntitlementRowLocked' }, 'transient'],
    [{ code: '403', class: 'quota_exceeded' }, 'transient'],
    [{ code: '403' }, 'permanent'],
  ])('%j is %s (configured rules first, then the built-in ones)', (error, kind) => {
    expect(custom(error)).toBe(kind);
  });

  it('defaults: false leaves only the configured rules', () => {
    const only = compileClassifier(errorClassificationSchema.parse({ rules: [{ code: '429', is: 'permanent' }], defaults: false }));
    expect([only({ code: '429' }), only({ code: '503' }), only({ class: 'timeout' })]).toEqual(['permanent', 'unknown', 'unknown']);
  });

  it.each([
    [{ rules: [{ is: 'transient' }] }, 'rules[0]: needs code or class (or both)'],
    [{ rules: [{ code: '429', is: 'maybe' }] }, 'rules[0].is: must be transient or permanent'],
    [{ rules: [{ code: '429', is: 'transient', retry: true }] }, 'rules[0]: Unrecognized key: "retry"'],
  ])('refuses %j', (input, message) => {
    const result = errorClassificationSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => `${formatPath(i.path)}: ${i.message}`)).toEqual([message]);
  });
});
