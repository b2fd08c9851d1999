import type { PagerDutyEvent } from './wire.ts';

export const ROUTING_KEY_LENGTH = 32;
export const DEDUP_KEY_MAX_LENGTH = 255;
const SEVERITIES: readonly string[] = ['critical', 'error', 'warning', 'info'];

/**
 * What PagerDuty would answer 400 for, checked before sending so that a bad alert fails at once
 * with a reason instead of costing a request. Messages name the field, never the routing key.
 */
export function eventProblems(event: PagerDutyEvent): string[] {
  const problems: string[] = [];
  const key = event.routing_key;
  if (!key) problems.push('routing_key: missing');
  else if (key.length !== ROUTING_KEY_LENGTH) problems.push(`routing_key: must be ${ROUTING_KEY_LENGTH} characters (is ${key.length})`);

  const dedup = event.dedup_key;
  if (dedup === undefined || dedup === '') {
    if (event.event_action !== 'trigger') problems.push('dedup_key: missing (required to resolve)');
    else problems.push('dedup_key: missing (the alert has no fingerprint)');
  } else if (dedup.length > DEDUP_KEY_MAX_LENGTH) {
    problems.push(`dedup_key: longer than ${DEDUP_KEY_MAX_LENGTH} characters (is ${dedup.length})`);
  }

  if (event.event_action !== 'trigger') return problems;
  const { payload } = event;
  if (!payload.summary) problems.push('payload.summary: missing');
  else if (payload.summary.length > 1024) problems.push(`payload.summary: longer than 1024 characters (is ${payload.summary.length})`);
  if (!payload.source?.trim()) problems.push('payload.source: missing');
  if (!payload.severity) problems.push(`payload.severity: missing (one of ${SEVERITIES.join(', ')})`);
  else if (!SEVERITIES.includes(payload.severity)) problems.push(`payload.severity: "${payload.severity}" is not one of ${SEVERITIES.join(', ')}`);
  if (payload.timestamp !== undefined && Number.isNaN(Date.parse(payload.timestamp))) problems.push('payload.timestamp: not an ISO 8601 time');
  event.links?.forEach((link, i) => {
    if (!isHttpUrl(link.href)) problems.push(`links[${i}].href: not an absolute http(s) URL`);
  });
  event.images?.forEach((image, i) => {
    if (!isHttpUrl(image.src, 'https:')) problems.push(`images[${i}].src: not an https URL`);
  });
  if (event.client_url !== undefined && !isHttpUrl(event.client_url)) problems.push('client_url: not an absolute http(s) URL');
  return problems;
}

function isHttpUrl(value: string, only?: 'https:'): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return only ? protocol === only : protocol === 'http:' || protocol === 'https:';
}
