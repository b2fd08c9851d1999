import { describe, expect, it } from 'vitest';
import { classifyError, classifyResponse, parseRetryAfter } from '../../src/alerts/pagerduty/response.ts';

const NOW = Date.UTC(2024, 2, 4, 9, 0, 0);
const INVALID = JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors: ["'payload.severity' is invalid (must be one of: critical, error, warning, info)"] });

describe('classifyResponse', () => {
  it.each<[string, number, string | null, string, unknown]>([
    ['202 accepted', 202, null, '{"status":"success","message":"Event processed","dedup_key":"k1"}', { status: 'success', httpStatus: 202, dedupKey: 'k1' }],
    ['202 without a body', 202, null, '', { status: 'success', httpStatus: 202 }],
    ['400 with PagerDuty errors', 400, null, INVALID, { status: 'failure', httpStatus: 400, message: 'Event object is invalid', errors: ["'payload.severity' is invalid (must be one of: critical, error, warning, info)"] }],
    ['400 that is not JSON', 400, null, 'Bad Request', { status: 'failure', httpStatus: 400, message: 'HTTP 400: Bad Request', errors: [] }],
    ['400 with a Retry-After is still permanent', 400, '5', INVALID, { status: 'failure', httpStatus: 400, message: 'Event object is invalid', errors: ["'payload.severity' is invalid (must be one of: critical, error, warning, info)"] }],
    ['404 (a wrong endpoint) is permanent', 404, null, '', { status: 'failure', httpStatus: 404, message: 'HTTP 404', errors: [] }],
    ['413 (too large) is permanent', 413, null, '{"message":"too large"}', { status: 'failure', httpStatus: 413, message: 'too large', errors: [] }],
    ['429 without Retry-After', 429, null, '', { status: 'retryable', reason: 'rate-limited', detail: 'HTTP 429', httpStatus: 429 }],
    ['429 with Retry-After seconds', 429, '30', '', { status: 'retryable', reason: 'rate-limited', detail: 'HTTP 429', httpStatus: 429, retryInMillis: 30_000 }],
    ['429 with an HTTP-date', 429, 'Mon, 04 Mar 2024 09:00:12 GMT', '', { status: 'retryable', reason: 'rate-limited', detail: 'HTTP 429', httpStatus: 429, retryInMillis: 12_000 }],
    ['500', 500, null, '', { status: 'retryable', reason: 'server-error', detail: 'HTTP 500', httpStatus: 500 }],
    ['502', 502, null, '', { status: 'retryable', reason: 'server-error', detail: 'HTTP 502', httpStatus: 502 }],
    ['503 with Retry-After', 503, '2', '', { status: 'retryable', reason: 'server-error', detail: 'HTTP 503', httpStatus: 503, retryInMillis: 2_000 }],
    ['504', 504, null, '', { status: 'retryable', reason: 'server-error', detail: 'HTTP 504', httpStatus: 504 }],
    ['408 request timeout', 408, null, '', { status: 'retryable', reason: 'timeout', detail: 'HTTP 408', httpStatus: 408 }],
  ])('%s', (_name, status, retryAfter, body, expected) => {
    expect(classifyResponse(status, retryAfter, body, NOW)).toEqual(expected);
  });
});

describe('parseRetryAfter', () => {
  it.each<[string | null, number | undefined]>([
    [null, undefined],
    ['', undefined],
    ['0', 0],
    ['1', 1_000],
    [' 120 ', 120_000],
    ['Mon, 04 Mar 2024 09:01:00 GMT', 60_000],
    ['Mon, 04 Mar 2024 08:59:00 GMT', 0], // already past: no wait beyond the backoff
    ['-5', undefined],
    ['1.5', undefined],
    ['soon', undefined],
  ])('%j → %j ms', (value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });
});

describe('classifyError', () => {
  it('a per-request timeout is retryable as a timeout', () => {
    expect(classifyError(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toEqual({ status: 'retryable', reason: 'timeout', detail: 'request timed out' });
  });

  it('a refused connection is a retryable network error named by its code', () => {
    const error = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) });
    expect(classifyError(error)).toEqual({ status: 'retryable', reason: 'network', detail: 'ECONNREFUSED' });
  });

  it('a reset socket is a retryable network error', () => {
    const error = new TypeError('fetch failed', { cause: new Error('other side closed') });
    expect(classifyError(error)).toEqual({ status: 'retryable', reason: 'network', detail: 'other side closed' });
  });

  it('an abort (shutdown) is retryable: the caller decides not to retry', () => {
    expect(classifyError(new DOMException('This operation was aborted', 'AbortError'))).toMatchObject({ status: 'retryable', reason: 'network' });
  });
});
