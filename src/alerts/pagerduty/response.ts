/**
 * What one request to PagerDuty came to, in opentelemetry-js's shape: success, a permanent failure
 * (never retried), or retryable with an optional wait the server asked for. Pure: the clock is a
 * parameter, so the decisions are tested with a fixed time.
 */
export type RetryReason = 'rate-limited' | 'server-error' | 'timeout' | 'network';

export type AttemptResult =
  | { status: 'success'; httpStatus: number; dedupKey?: string }
  | { status: 'failure'; httpStatus: number; message: string; errors: string[] }
  | { status: 'retryable'; reason: RetryReason; detail: string; httpStatus?: number; retryInMillis?: number };

export type RetryableAttempt = Extract<AttemptResult, { status: 'retryable' }>;

/** Classifies an HTTP answer. 202 is PagerDuty's success; 429, 408 and 5xx are worth another try. */
export function classifyResponse(httpStatus: number, retryAfter: string | null, body: string, now: number): AttemptResult {
  const parsed = parseBody(body);
  if (httpStatus >= 200 && httpStatus < 300) {
    const dedupKey = typeof parsed?.dedup_key === 'string' ? parsed.dedup_key : undefined;
    return dedupKey === undefined ? { status: 'success', httpStatus } : { status: 'success', httpStatus, dedupKey };
  }
  const retryable = retryReason(httpStatus);
  if (retryable) {
    const result: RetryableAttempt = { status: 'retryable', reason: retryable, detail: `HTTP ${httpStatus}`, httpStatus };
    const wait = parseRetryAfter(retryAfter, now);
    if (wait !== undefined) result.retryInMillis = wait;
    return result;
  }
  const message = typeof parsed?.message === 'string' && parsed.message ? parsed.message : fallbackMessage(httpStatus, body);
  const errors = Array.isArray(parsed?.errors) ? parsed.errors.map(String) : [];
  return { status: 'failure', httpStatus, message, errors };
}

function retryReason(httpStatus: number): RetryReason | undefined {
  if (httpStatus === 429) return 'rate-limited';
  if (httpStatus === 408) return 'timeout';
  if (httpStatus >= 500 && httpStatus < 600) return 'server-error';
  return undefined;
}

/** Classifies a request that got no answer: fetch's own failures, our timeout, or an abort. */
export function classifyError(error: unknown): RetryableAttempt {
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError') return { status: 'retryable', reason: 'timeout', detail: 'request timed out' };
  if (name === 'AbortError') return { status: 'retryable', reason: 'network', detail: 'request aborted' };
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const detail = code ?? (typeof cause?.message === 'string' ? cause.message : error instanceof Error ? error.message : String(error));
  return { status: 'retryable', reason: 'network', detail };
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3); anything else is ignored. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  // Only the IMF-fixdate form: Date.parse alone would take "-5" or "1.5" for dates.
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

function parseBody(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function fallbackMessage(httpStatus: number, body: string): string {
  const text = body.trim().slice(0, 200);
  return text ? `HTTP ${httpStatus}: ${text}` : `HTTP ${httpStatus}`;
}
