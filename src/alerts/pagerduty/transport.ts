import type { PagerDutyEvent } from './event.ts';
import { classifyError, classifyResponse, type AttemptResult } from './response.ts';

export const DEFAULT_ENDPOINT = 'https://events.pagerduty.com/v2/enqueue';

/**
 * One POST of one event with the global fetch, bounded by its own timeout and by `signal`
 * (shutdown). Never throws: every outcome is an AttemptResult.
 */
export async function postEvent(url: string, event: PagerDutyEvent, timeoutMs: number, signal: AbortSignal, now: () => number): Promise<AttemptResult> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'seamwatch' },
      body: JSON.stringify(event),
      signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), signal]),
    });
    // The body is read under the same signals: a server that stalls mid-answer times out too.
    const body = await response.text();
    return classifyResponse(response.status, response.headers.get('retry-after'), body, now());
  } catch (error) {
    return classifyError(error);
  }
}
