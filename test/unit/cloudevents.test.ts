import { describe, expect, it } from 'vitest';
import { decodeCloudEvent } from '../../src/collectors/decode/cloudevents.ts';
import type { RawMessage } from '../../src/collectors/decode/message.ts';
import type { DeadLetterReason } from '../../src/domain/dead-letter.ts';

const ORIGIN = { topic: 'crm.events', partition: 4, offset: '9007199254740993' };
/** Broker time of every test message: the fallback when an event has no time. */
const BROKER_TIME = Date.UTC(2024, 2, 4, 9, 0, 7);

function message(value: string | Buffer | null, headers: Record<string, string> = {}): RawMessage {
  return { value: typeof value === 'string' ? Buffer.from(value, 'utf8') : value, headers, key: 'corr-1', timestamp: BROKER_TIME, origin: ORIGIN };
}

const structured = (attributes: Record<string, unknown>) => message(JSON.stringify(attributes));

const ATTRS = {
  specversion: '1.0',
  id: 'evt-1',
  source: 'crm',
  type: 'subscription.upgraded',
  time: '2024-03-04T09:00:00.250Z',
  correlationid: 'corr-1',
};

const CE_HEADERS = {
  ce_specversion: '1.0',
  ce_id: 'evt-1',
  ce_source: 'crm',
  ce_type: 'subscription.upgraded',
  ce_time: '2024-03-04T09:00:00.250Z',
  ce_correlationid: 'corr-1',
};

describe('decodeCloudEvent, structured mode', () => {
  it('decodes every attribute, the data and where the message came from', () => {
    const result = decodeCloudEvent(structured({ ...ATTRS, subject: 'acct-7', datacontenttype: 'application/json', data: { plan: 'pro', seats: 5 } }));
    expect(result).toEqual({
      ok: true,
      event: {
        source: 'crm',
        id: 'evt-1',
        type: 'subscription.upgraded',
        time: Date.UTC(2024, 2, 4, 9, 0, 0, 250),
        correlationId: 'corr-1',
        subject: 'acct-7',
        data: { plan: 'pro', seats: 5 },
        origin: ORIGIN,
      },
    });
  });

  it('leaves out subject, data and error when the event has none', () => {
    const result = decodeCloudEvent(structured(ATTRS));
    expect(result.ok && Object.keys(result.event).sort()).toEqual(['correlationId', 'id', 'origin', 'source', 'time', 'type']);
  });

  it('takes data_base64 when there is no data', () => {
    const result = decodeCloudEvent(structured({ ...ATTRS, data_base64: 'aGVsbG8=' }));
    expect(result.ok && result.event.data).toBe('aGVsbG8=');
  });

  it('keeps falsy data such as 0 and false', () => {
    const zero = decodeCloudEvent(structured({ ...ATTRS, data: 0 }));
    const no = decodeCloudEvent(structured({ ...ATTRS, data: false }));
    expect([zero.ok && zero.event.data, no.ok && no.event.data]).toEqual([0, false]);
  });

  it('falls back to the message timestamp when the event has no time', () => {
    const { time: _time, ...untimed } = ATTRS;
    const result = decodeCloudEvent(structured(untimed));
    expect(result.ok && result.event.time).toBe(BROKER_TIME);
  });

  it.each([
    ['Z', '2024-03-04T09:00:00Z', Date.UTC(2024, 2, 4, 9)],
    ['an offset', '2024-03-04T10:30:00+01:30', Date.UTC(2024, 2, 4, 9)],
    ['a negative offset', '2024-03-04T04:00:00-05:00', Date.UTC(2024, 2, 4, 9)],
    ['microseconds', '2024-03-04T09:00:00.123456Z', Date.UTC(2024, 2, 4, 9, 0, 0, 123)],
    ['lower-case t and z', '2024-03-04t09:00:00z', Date.UTC(2024, 2, 4, 9)],
  ])('reads an RFC 3339 time with %s', (_label, time, ms) => {
    const result = decodeCloudEvent(structured({ ...ATTRS, time }));
    expect(result.ok && result.event.time).toBe(ms);
  });

  it('reads the error extension attributes, as strings', () => {
    const result = decodeCloudEvent(structured({ ...ATTRS, errorcode: 429, errorclass: 'rate-limited', errormessage: 'slow down' }));
    expect(result.ok && result.event.error).toEqual({ code: '429', class: 'rate-limited', message: 'slow down' });
  });

  it('takes only the error attributes that are set', () => {
    const result = decodeCloudEvent(structured({ ...ATTRS, errorcode: 'E_TIMEOUT', errormessage: null }));
    expect(result.ok && result.event.error).toEqual({ code: 'E_TIMEOUT' });
  });

  it('ignores a subject that is not a string', () => {
    const result = decodeCloudEvent(structured({ ...ATTRS, subject: 7 }));
    expect(result.ok && 'subject' in result.event).toBe(false);
  });
});

describe('decodeCloudEvent, binary mode (ce_* headers)', () => {
  it('reads attributes from the headers and JSON data from the value', () => {
    const result = decodeCloudEvent(message('{"plan":"pro"}', { ...CE_HEADERS, ce_subject: 'acct-7', 'content-type': 'application/json; charset=utf-8' }));
    expect(result).toEqual({
      ok: true,
      event: {
        source: 'crm',
        id: 'evt-1',
        type: 'subscription.upgraded',
        time: Date.UTC(2024, 2, 4, 9, 0, 0, 250),
        correlationId: 'corr-1',
        subject: 'acct-7',
        data: { plan: 'pro' },
        dataText: '{"plan":"pro"}',
        origin: ORIGIN,
      },
    });
  });

  it('keeps binary-mode JSON data as the text it came in, spacing and key order included, for the store', () => {
    const text = '{ "seats": 12,  "plan": "pro" }';
    const result = decodeCloudEvent(message(text, CE_HEADERS));
    expect(result.ok && [result.event.data, result.event.dataText]).toEqual([{ seats: 12, plan: 'pro' }, text]);
  });

  it('treats a value without content-type as JSON', () => {
    const result = decodeCloudEvent(message('[1,2]', CE_HEADERS));
    expect(result.ok && result.event.data).toEqual([1, 2]);
  });

  it('keeps a non-JSON value as base64', () => {
    const result = decodeCloudEvent(message(Buffer.from([0xde, 0xad, 0xbe, 0xef]), { ...CE_HEADERS, 'content-type': 'application/octet-stream' }));
    expect(result.ok && result.event.data).toBe('3q2+7w==');
  });

  it('has no data when the value is empty or a tombstone', () => {
    const empty = decodeCloudEvent(message('', CE_HEADERS));
    const tombstone = decodeCloudEvent(message(null, CE_HEADERS));
    expect([empty.ok && 'data' in empty.event, tombstone.ok && 'data' in tombstone.event]).toEqual([false, false]);
    expect(tombstone.ok).toBe(true);
  });

  it('reads the error extension from headers', () => {
    const result = decodeCloudEvent(message(null, { ...CE_HEADERS, ce_errorcode: '503', ce_errorclass: 'transient' }));
    expect(result.ok && result.event.error).toEqual({ code: '503', class: 'transient' });
  });

  it('falls back to the message timestamp without ce_time', () => {
    const { ce_time: _time, ...headers } = CE_HEADERS;
    const result = decodeCloudEvent(message(null, headers));
    expect(result.ok && result.event.time).toBe(BROKER_TIME);
  });

  it('ignores headers that are not ce_ attributes', () => {
    const result = decodeCloudEvent(message(null, { ...CE_HEADERS, traceparent: '00-abc-def-01', id: 'not-this' }));
    expect(result.ok && result.event.id).toBe('evt-1');
  });

  it('uses the headers, not the value, in binary mode even when the value looks structured', () => {
    const result = decodeCloudEvent(message(JSON.stringify({ ...ATTRS, id: 'from-value' }), CE_HEADERS));
    expect(result.ok && result.event.id).toBe('evt-1');
  });
});

describe('decodeCloudEvent refuses what cannot be stitched, with a reason', () => {
  const without = (name: keyof typeof ATTRS) => {
    const copy: Record<string, unknown> = { ...ATTRS };
    delete copy[name];
    return structured(copy);
  };
  const withoutHeader = (name: keyof typeof CE_HEADERS) => {
    const copy: Record<string, string> = { ...CE_HEADERS };
    delete copy[name];
    return message(null, copy);
  };

  // JSON.parse's own wording belongs to V8, so those details are matched by their start only.
  it.each<[string, RawMessage, DeadLetterReason, string | RegExp]>([
    ['no correlationid', without('correlationid'), 'missing-field', 'no "correlationid" attribute'],
    ['an empty correlationid', structured({ ...ATTRS, correlationid: '' }), 'missing-field', 'no "correlationid" attribute'],
    ['a null correlationid', structured({ ...ATTRS, correlationid: null }), 'missing-field', 'no "correlationid" attribute'],
    ['a numeric correlationid', structured({ ...ATTRS, correlationid: 42 }), 'invalid-field', '"correlationid" must be a string'],
    ['no ce_correlationid header', withoutHeader('ce_correlationid'), 'missing-field', 'no "correlationid" attribute'],
    ['no id', without('id'), 'missing-field', 'no "id" attribute'],
    ['no source', without('source'), 'missing-field', 'no "source" attribute'],
    ['no type', without('type'), 'missing-field', 'no "type" attribute'],
    ['no ce_type header', withoutHeader('ce_type'), 'missing-field', 'no "type" attribute'],
    ['no specversion', without('specversion'), 'not-cloudevent', 'no "specversion" attribute'],
    ['specversion 0.3', structured({ ...ATTRS, specversion: '0.3' }), 'invalid-field', 'specversion "0.3" is not "1.0"'],
    ['a numeric specversion', structured({ ...ATTRS, specversion: 1 }), 'invalid-field', 'specversion "1" is not "1.0"'],
    ['a ce_specversion header of 0.3', message(null, { ...CE_HEADERS, ce_specversion: '0.3' }), 'invalid-field', 'specversion "0.3" is not "1.0"'],
    ['a time that is not a time', structured({ ...ATTRS, time: 'yesterday' }), 'invalid-field', '"time" is not an RFC 3339 timestamp: "yesterday"'],
    ['a time as epoch ms', structured({ ...ATTRS, time: 1709542800000 }), 'invalid-field', '"time" is not an RFC 3339 timestamp: 1709542800000'],
    ['a null time', structured({ ...ATTRS, time: null }), 'invalid-field', '"time" is not an RFC 3339 timestamp: null'],
    ['a time without an offset (machine-local otherwise)', structured({ ...ATTRS, time: '2024-03-04T09:00:00' }), 'invalid-field', '"time" is not an RFC 3339 timestamp: "2024-03-04T09:00:00"'],
    ['a time without seconds', structured({ ...ATTRS, time: '2024-03-04T09:00Z' }), 'invalid-field', '"time" is not an RFC 3339 timestamp: "2024-03-04T09:00Z"'],
    ['a date only', structured({ ...ATTRS, time: '2024-03-04' }), 'invalid-field', '"time" is not an RFC 3339 timestamp: "2024-03-04"'],
    ['hour 25', structured({ ...ATTRS, time: '2024-03-04T25:00:00Z' }), 'invalid-field', '"time" is not an RFC 3339 timestamp: "2024-03-04T25:00:00Z"'],
    ['a bad ce_time header', message(null, { ...CE_HEADERS, ce_time: 'now' }), 'invalid-field', '"time" is not an RFC 3339 timestamp: "now"'],
    ['a value that is not JSON', message('{"specversion": "1.0",'), 'not-json', /^Expected double-quoted property name in JSON at position 22\b/],
    ['a value that is JSON but not an object', message('["specversion", "1.0"]'), 'not-cloudevent', 'the value is JSON but not an object'],
    ['a JSON null', message('null'), 'not-cloudevent', 'the value is JSON but not an object'],
    ['an empty value without ce headers', message(''), 'not-cloudevent', 'empty message and no ce_specversion header'],
    ['a tombstone without ce headers', message(null), 'not-cloudevent', 'empty message and no ce_specversion header'],
    ['binary-mode JSON data that is not JSON', message('{oops', CE_HEADERS), 'not-json', /^binary-mode data is not JSON: Expected property name or '\}' in JSON at position 1\b/],
  ])('%s', (_label, input, reason, detail) => {
    expect(decodeCloudEvent(input)).toEqual({ ok: false, reason, detail: typeof detail === 'string' ? detail : expect.stringMatching(detail) });
  });
});
