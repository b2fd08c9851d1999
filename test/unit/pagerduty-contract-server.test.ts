import { describe, expect, it } from 'vitest';
import { validateEnqueueBody } from '../support/pagerduty-server.ts';

/** The contract server is only worth its name if it refuses what PagerDuty refuses. */
const KEY = 'R0123456789abcdef0123456789abcde';
const trigger = () => ({
  routing_key: KEY,
  event_action: 'trigger',
  dedup_key: 'k-1',
  payload: { summary: 'Invoice sent twice', source: 'seamwatch', severity: 'critical', timestamp: '2015-07-17T08:42:58.315+0000', component: 'c', group: 'g', class: 'k', custom_details: { n: 1 } },
  links: [{ href: 'https://example.com/', text: 'Link text' }],
  images: [{ src: 'https://example.com/a.png', href: 'https://example.com/', alt: 'Example text' }],
  client: 'Sample Monitoring Service',
  client_url: 'https://monitoring.example.com',
});

describe('validateEnqueueBody', () => {
  it.each<[string, unknown]>([
    ["PagerDuty's own trigger example", trigger()],
    ['a minimal trigger (no dedup_key: PagerDuty makes one)', { routing_key: KEY, event_action: 'trigger', payload: { summary: 's', source: 'h', severity: 'info' } }],
    ['a resolve', { routing_key: KEY, event_action: 'resolve', dedup_key: 'k-1' }],
    ['an acknowledge', { routing_key: KEY, event_action: 'acknowledge', dedup_key: 'k-1' }],
    ['a UTC timestamp', { ...trigger(), payload: { ...trigger().payload, timestamp: '2024-03-04T09:15:30.250Z' } }],
    ['a timestamp with a colon offset', { ...trigger(), payload: { ...trigger().payload, timestamp: '2024-03-04T10:15:30+01:00' } }],
    ['a summary of exactly 1024 characters', { ...trigger(), payload: { ...trigger().payload, summary: 's'.repeat(1024) } }],
    ['a dedup_key of exactly 255 characters', { ...trigger(), dedup_key: 'd'.repeat(255) }],
  ])('accepts %s', (_name, body) => {
    expect(validateEnqueueBody(body)).toEqual([]);
  });

  const { dedup_key: _omit, ...withoutDedup } = { routing_key: KEY, event_action: 'resolve', dedup_key: 'x' };
  it.each<[string, unknown, string[]]>([
    ['not JSON', undefined, ['Event is empty']],
    ['an array', [], ['Event must be a JSON object']],
    ['no event_action', { routing_key: KEY, payload: trigger().payload }, ["'event_action' is missing or blank"]],
    ['an unknown event_action', { ...trigger(), event_action: 'open' }, ["'event_action' is invalid (must be one of: trigger, acknowledge, resolve)"]],
    ['no routing_key', { ...trigger(), routing_key: '' }, ["'routing_key' is missing or blank"]],
    ['a routing_key of 31 characters', { ...trigger(), routing_key: KEY.slice(1) }, ["Length of 'routing_key' is incorrect (should be 32 characters)"]],
    ['a resolve without dedup_key', withoutDedup, ["'dedup_key' is required for resolve events"]],
    ['a resolve with a payload', { routing_key: KEY, event_action: 'resolve', dedup_key: 'k', payload: trigger().payload }, ["'payload' is not allowed in resolve events"]],
    ['a dedup_key over 255 characters', { ...trigger(), dedup_key: 'd'.repeat(256) }, ["'dedup_key' is too long (255 characters at most)"]],
    ['an empty dedup_key', { ...trigger(), dedup_key: '' }, ["'dedup_key' must be a non-empty string"]],
    ['a trigger without payload', { routing_key: KEY, event_action: 'trigger' }, ["'payload' is missing or blank"]],
    ['a blank summary', { ...trigger(), payload: { ...trigger().payload, summary: ' ' } }, ["'payload.summary' is missing or blank"]],
    ['a summary over 1024 characters', { ...trigger(), payload: { ...trigger().payload, summary: 's'.repeat(1025) } }, ["'payload.summary' is too long (1024 characters at most)"]],
    ['no source', { ...trigger(), payload: { ...trigger().payload, source: undefined } }, ["'payload.source' is missing or blank"]],
    ['a severity outside the enum', { ...trigger(), payload: { ...trigger().payload, severity: 'high' } }, ["'payload.severity' is invalid (must be one of: critical, error, warning, info)"]],
    ['a severity in capitals', { ...trigger(), payload: { ...trigger().payload, severity: 'CRITICAL' } }, ["'payload.severity' is invalid (must be one of: critical, error, warning, info)"]],
    ['a timestamp without a zone', { ...trigger(), payload: { ...trigger().payload, timestamp: '2024-03-04T09:15:30' } }, ["'payload.timestamp' is not a valid ISO 8601 timestamp"]],
    ['a timestamp in epoch millis', { ...trigger(), payload: { ...trigger().payload, timestamp: 1709543730000 } }, ["'payload.timestamp' is not a valid ISO 8601 timestamp"]],
    ['an impossible date', { ...trigger(), payload: { ...trigger().payload, timestamp: '2024-13-45T09:15:30Z' } }, ["'payload.timestamp' is not a valid ISO 8601 timestamp"]],
    ['custom_details as a string', { ...trigger(), payload: { ...trigger().payload, custom_details: 'x' } }, ["'payload.custom_details' must be an object"]],
    ['an unknown payload field', { ...trigger(), payload: { ...trigger().payload, priority: 'P1' } }, ["'payload.priority' is not allowed"]],
    ['an unknown top-level field (a typo)', { ...trigger(), dedupKey: 'k' }, ["'dedupKey' is not allowed"]],
    ['links as an object', { ...trigger(), links: { href: 'https://x' } }, ["'links' must be an array"]],
    ['a link without href', { ...trigger(), links: [{ text: 't' }] }, ["'links[0].href' must be a URL"]],
    ['a link with a relative href', { ...trigger(), links: [{ href: '/traces/1' }] }, ["'links[0].href' must be a URL"]],
    ['a link with an unknown field', { ...trigger(), links: [{ href: 'https://x.example', title: 't' }] }, ["'links[0].title' is not allowed"]],
    ['an image served over http', { ...trigger(), images: [{ src: 'http://example.com/a.png' }] }, ["'images[0].src' must be an https URL"]],
    ['an image with a numeric alt', { ...trigger(), images: [{ src: 'https://example.com/a.png', alt: 3 }] }, ["'images[0].alt' must be a string"]],
  ])('refuses %s', (_name, body, errors) => {
    expect(validateEnqueueBody(body)).toEqual(errors);
  });

  it('says when the body was not JSON at all', () => {
    expect(validateEnqueueBody(undefined, '{"routing_key":')).toEqual(['Malformed JSON']);
  });
});
