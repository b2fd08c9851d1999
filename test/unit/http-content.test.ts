import { describe, expect, it } from 'vitest';
import { unpack } from '../../src/collectors/http/content.ts';
import { decodeCloudEvent } from '../../src/collectors/decode/cloudevents.ts';
import type { RawMessage } from '../../src/collectors/decode/message.ts';

const event = (id: string) => ({ specversion: '1.0', id, source: 'crm', type: 'subscription.upgraded', correlationid: 'c-1', time: '2026-11-29T12:00:00Z', data: { plan: 'pro' } });
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const raw = (m: { value: Buffer; headers: Record<string, string> }): RawMessage => ({ ...m, key: null, timestamp: 0, origin: { topic: 'http:crm', partition: 0, offset: '1' } });

describe('unpack (CloudEvents HTTP binding)', () => {
  it('structured mode: the body is the event', () => {
    const out = unpack('cloudevents', { 'content-type': 'application/cloudevents+json; charset=utf-8' }, json(event('e1')));
    expect(out.ok && out.mode).toBe('structured');
    if (!out.ok) return;
    const decoded = decodeCloudEvent(raw(out.messages[0]!));
    expect(decoded.ok && decoded.event.id).toBe('e1');
  });

  it('batched mode: each element of the array is one event', () => {
    const out = unpack('cloudevents', { 'content-type': 'application/cloudevents-batch+json' }, json([event('e1'), event('e2'), event('e3')]));
    expect(out.ok && out.mode).toBe('batch');
    if (!out.ok) return;
    expect(out.messages.map((m) => { const d = decodeCloudEvent(raw(m)); return d.ok && d.event.id; })).toEqual(['e1', 'e2', 'e3']);
  });

  it('binary mode: ce-* headers are the attributes (percent-decoded), the body is the data', () => {
    const headers = {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': 'e9',
      'ce-source': 'crm',
      'ce-type': 'subscription.upgraded',
      'ce-correlationid': 'c%20one',
      'ce-time': '2026-11-29T12:00:00Z',
      'x-other': 'ignored',
    };
    const out = unpack('cloudevents', headers, json({ plan: 'pro' }));
    expect(out.ok && out.mode).toBe('binary');
    if (!out.ok) return;
    const decoded = decodeCloudEvent(raw(out.messages[0]!));
    expect(decoded.ok && [decoded.event.id, decoded.event.correlationId, decoded.event.data]).toEqual(['e9', 'c one', { plan: 'pro' }]);
  });

  it('a mapped source takes its provider\'s JSON as is, whatever the content type', () => {
    const out = unpack('mapped', { 'content-type': 'application/json' }, json({ id: 'evt_1' }));
    expect(out.ok && [out.mode, out.messages.length]).toEqual(['mapped', 1]);
  });

  it.each([
    ['plain JSON with no ce- headers', { 'content-type': 'application/json' }, json(event('e1')), 'not-cloudevent', 'Content-Type "application/json" with no ce-specversion header is not a CloudEvent: use application/cloudevents+json, application/cloudevents-batch+json, or binary mode (ce-* headers)'],
    ['no content type at all', {}, json(event('e1')), 'not-cloudevent', 'Content-Type "(none)" with no ce-specversion header is not a CloudEvent: use application/cloudevents+json, application/cloudevents-batch+json, or binary mode (ce-* headers)'],
    ['a batch that is not JSON', { 'content-type': 'application/cloudevents-batch+json' }, Buffer.from('[{'), 'not-json', undefined],
    ['a batch that is an object', { 'content-type': 'application/cloudevents-batch+json' }, json(event('e1')), 'not-cloudevent', 'a application/cloudevents-batch+json body must be a JSON array of events'],
  ] as const)('refuses %s', (_name, headers, body, reason, detail) => {
    const out = unpack('cloudevents', headers, body);
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.reason).toBe(reason);
    if (detail) expect(out.detail).toBe(detail);
  });
});
