import { describe, expect, it } from 'vitest';
import { compileMappedDecoder } from '../../src/collectors/decode/mapped.ts';
import type { RawMessage } from '../../src/collectors/decode/message.ts';
import type { DeadLetterReason } from '../../src/domain/dead-letter.ts';
import type { MappingConfig } from '../../src/collectors/config.ts';

const ORIGIN = { topic: 'billing.webhooks', partition: 2, offset: '17' };
const BROKER_TIME = Date.UTC(2024, 2, 4, 9, 0, 7);
const CREATED = 1_709_542_800; // 2024-03-04T09:00:00Z in seconds

function message(value: unknown): RawMessage {
  const buffer = value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
  return { value: buffer, headers: {}, key: null, timestamp: BROKER_TIME, origin: ORIGIN };
}

/** The billing provider's webhook mapping from config/seamwatch.yaml, plus a type rename. */
const BILLING: MappingConfig = {
  id: { path: 'id' },
  type: { path: 'type' },
  time: { path: 'created', format: 'unix-s' },
  correlationid: { path: 'data.object.metadata.correlation_id' },
  subject: { path: 'data.object.customer' },
  data: { path: 'data.object' },
  error: { code: { path: 'data.object.last_error.code' }, message: { path: 'data.object.last_error.message' } },
  types: { 'invoice.payment_succeeded': 'invoice.updated' },
};

const webhook = (overrides: Record<string, unknown> = {}, object: Record<string, unknown> = {}) => ({
  id: 'evt_1',
  type: 'invoice.updated',
  created: CREATED,
  data: { object: { customer: 'cus_7', metadata: { correlation_id: 'corr-1' }, amount: 1200, ...object } },
  ...overrides,
});

const decodeBilling = compileMappedDecoder('billing', BILLING);

describe('compileMappedDecoder', () => {
  it('maps a webhook body to the canonical event by field paths', () => {
    expect(decodeBilling(message(webhook()))).toEqual({
      ok: true,
      event: {
        source: 'billing',
        id: 'evt_1',
        type: 'invoice.updated',
        time: Date.UTC(2024, 2, 4, 9),
        correlationId: 'corr-1',
        subject: 'cus_7',
        data: { customer: 'cus_7', metadata: { correlation_id: 'corr-1' }, amount: 1200 },
        origin: ORIGIN,
      },
    });
  });

  it('renames foreign event types through the types map', () => {
    const result = decodeBilling(message(webhook({ type: 'invoice.payment_succeeded' })));
    expect(result.ok && result.event.type).toBe('invoice.updated');
  });

  it('passes types the map does not name through unchanged', () => {
    const result = decodeBilling(message(webhook({ type: 'customer.created' })));
    expect(result.ok && result.event.type).toBe('customer.created');
  });

  it('reads the error fields when they are there', () => {
    const result = decodeBilling(message(webhook({ type: 'invoice.update_failed' }, { last_error: { code: 'card_declined', message: 'Your card was declined.' } })));
    expect(result.ok && result.event.error).toEqual({ code: 'card_declined', message: 'Your card was declined.' });
  });

  it('has no error when the error fields are absent or empty', () => {
    const result = decodeBilling(message(webhook({}, { last_error: { code: '' } })));
    expect(result.ok && 'error' in result.event).toBe(false);
  });

  it('turns numeric ids and correlation IDs into strings', () => {
    const result = decodeBilling(message(webhook({ id: 981 }, { metadata: { correlation_id: 42 } })));
    expect(result.ok && [result.event.id, result.event.correlationId]).toEqual(['981', '42']);
  });

  it('keeps the whole body as data when no data path is configured', () => {
    const decode = compileMappedDecoder('billing', { ...BILLING, data: undefined });
    const body = webhook();
    const result = decode(message(body));
    expect(result.ok && result.event.data).toEqual(body);
  });

  it('has no data when the data path finds nothing', () => {
    const decode = compileMappedDecoder('billing', { ...BILLING, data: { path: 'payload' } });
    const result = decode(message(webhook()));
    expect(result.ok && 'data' in result.event).toBe(false);
  });

  it('has no subject when the subject is not a scalar', () => {
    const result = decodeBilling(message(webhook({}, { customer: { id: 'cus_7' } })));
    expect(result.ok && 'subject' in result.event).toBe(false);
  });

  it('takes constants for fields the payload does not carry', () => {
    const decode = compileMappedDecoder('erp', {
      ...BILLING,
      type: { value: 'order.shipped' },
      error: { class: { value: 'erp' }, code: { path: 'status' } },
    });
    const result = decode(message(webhook({ status: 500 })));
    expect(result.ok && [result.event.source, result.event.type, result.event.error]).toEqual(['erp', 'order.shipped', { class: 'erp', code: '500' }]);
  });

  it('reads keys with dots and array elements', () => {
    const decode = compileMappedDecoder('billing', { ...BILLING, correlationid: { path: 'data.object.lines[1]["correlation.id"]' } });
    const result = decode(message(webhook({}, { lines: [{}, { 'correlation.id': 'corr-line' }] })));
    expect(result.ok && result.event.correlationId).toBe('corr-line');
  });

  describe('time formats', () => {
    const decoderFor = (format: 'iso' | 'unix-s' | 'unix-ms') => compileMappedDecoder('billing', { ...BILLING, time: { path: 'created', format } });

    it.each<[string, 'iso' | 'unix-s' | 'unix-ms', unknown, number]>([
      ['unix seconds', 'unix-s', CREATED, Date.UTC(2024, 2, 4, 9)],
      ['unix seconds as a string', 'unix-s', String(CREATED), Date.UTC(2024, 2, 4, 9)],
      ['fractional unix seconds', 'unix-s', CREATED + 0.25, Date.UTC(2024, 2, 4, 9, 0, 0, 250)],
      ['fractional unix seconds as a string', 'unix-s', `${CREATED}.5`, Date.UTC(2024, 2, 4, 9, 0, 0, 500)],
      ['unix milliseconds', 'unix-ms', CREATED * 1000 + 7, Date.UTC(2024, 2, 4, 9, 0, 0, 7)],
      ['unix milliseconds as a string', 'unix-ms', String(CREATED * 1000), Date.UTC(2024, 2, 4, 9)],
      ['ISO with Z', 'iso', '2024-03-04T09:00:00Z', Date.UTC(2024, 2, 4, 9)],
      ['ISO with an offset', 'iso', '2024-03-04T11:00:00.5+02:00', Date.UTC(2024, 2, 4, 9, 0, 0, 500)],
    ])('reads %s', (_label, format, created, ms) => {
      const result = decoderFor(format)(message(webhook({ created })));
      expect(result.ok && result.event.time).toBe(ms);
    });

    it.each(['iso', 'unix-s', 'unix-ms'] as const)('falls back to the message timestamp when %s time is missing or null', (format) => {
      const missing = decoderFor(format)(message(webhook({ created: undefined })));
      const nulled = decoderFor(format)(message(webhook({ created: null })));
      expect([missing.ok && missing.event.time, nulled.ok && nulled.event.time]).toEqual([BROKER_TIME, BROKER_TIME]);
    });

    it.each<[string, 'iso' | 'unix-s' | 'unix-ms', unknown, string]>([
      ['seconds given to an ISO field', 'iso', CREATED, `time: ${CREATED} is not iso`],
      ['ISO given to a unix-s field', 'unix-s', '2024-03-04T09:00:00Z', 'time: "2024-03-04T09:00:00Z" is not unix-s'],
      ['a negative string', 'unix-ms', '-5', 'time: "-5" is not unix-ms'],
      ['an empty string', 'unix-s', '', 'time: "" is not unix-s'],
      ['a boolean', 'unix-ms', true, 'time: true is not unix-ms'],
      ['an object', 'unix-s', { seconds: 1 }, 'time: {"seconds":1} is not unix-s'],
      ['ISO without an offset', 'iso', '2024-03-04T09:00:00', 'time: "2024-03-04T09:00:00" is not iso'],
    ])('refuses %s', (_label, format, created, detail) => {
      expect(decoderFor(format)(message(webhook({ created })))).toEqual({ ok: false, reason: 'invalid-field', detail });
    });
  });

  describe('refuses what cannot be mapped, with a reason', () => {
    it.each<[string, RawMessage, DeadLetterReason, string | RegExp]>([
      ['no id', message(webhook({ id: undefined })), 'missing-field', 'id: nothing at path "id"'],
      ['an empty id', message(webhook({ id: '' })), 'missing-field', 'id: nothing at path "id"'],
      ['an id that is an object', message(webhook({ id: { v: 1 } })), 'missing-field', 'id: nothing at path "id"'],
      ['no type', message(webhook({ type: null })), 'missing-field', 'type: nothing at path "type"'],
      ['no correlation ID', message(webhook({}, { metadata: {} })), 'missing-field', 'correlationid: nothing at path "data.object.metadata.correlation_id"'],
      ['no data object at all', message({ id: 'evt_1', type: 't', created: CREATED }), 'missing-field', 'correlationid: nothing at path "data.object.metadata.correlation_id"'],
      ['a JSON array', message([webhook()]), 'mapping-failed', 'the value is JSON but not an object'],
      ['a JSON string', message('"evt_1"'), 'mapping-failed', 'the value is JSON but not an object'],
      ['an empty message', message(''), 'not-json', 'empty message'],
      ['a tombstone', message(null), 'not-json', 'empty message'],
      ['text that is not JSON', message('id=evt_1&type=x'), 'not-json', /^Unexpected token 'i', "id=evt_1&type=x" is not valid JSON$/],
    ])('%s', (_label, input, reason, detail) => {
      expect(decodeBilling(input)).toEqual({ ok: false, reason, detail: typeof detail === 'string' ? detail : expect.stringMatching(detail) });
    });

    it('names an empty constant as empty', () => {
      const decode = compileMappedDecoder('billing', { ...BILLING, type: { value: '' } });
      expect(decode(message(webhook()))).toEqual({ ok: false, reason: 'missing-field', detail: 'type: empty' });
    });

    it('reports the first missing field in the order id, type, correlationid', () => {
      expect(decodeBilling(message({ created: CREATED }))).toEqual({ ok: false, reason: 'missing-field', detail: 'id: nothing at path "id"' });
    });
  });

  it('refuses to compile a mapping whose field path does not parse', () => {
    expect(() => compileMappedDecoder('billing', { ...BILLING, id: { path: 'a..b' } })).toThrow('bad field path "a..b" at character 2');
  });
});
