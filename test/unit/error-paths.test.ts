import { describe, expect, it } from 'vitest';
import { sourceSchema } from '../../src/collectors/config.ts';
import { decoderFor } from '../../src/collectors/decode/index.ts';
import type { RawMessage } from '../../src/collectors/decode/message.ts';
import { compileClassifier } from '../../src/alerts/detectors/error-class.ts';
import { errorClassificationSchema } from '../../src/alerts/detectors/error-class.ts';
import { formatPath } from '../../src/config/load.ts';

const ORIGIN = { topic: 'billing.events', partition: 0, offset: '7' };
const message = (value: unknown, headers: Record<string, string> = {}): RawMessage => ({ value: Buffer.from(JSON.stringify(value)), headers, key: 'k', timestamp: 1, origin: ORIGIN });

const CE = {
  specversion: '1.0',
  id: 'evt-1',
  source: 'billing',
  type: 'entitlement.failed',
  time: '2026-11-23T09:00:00Z',
  correlationid: 'up-1',
  data: { error: { class: 'validation_error', code: 'plan_unknown', message: 'no such plan' } },
};

const ERRORS = { class: 'data.error.class', code: 'data.error.code', message: 'data.error.message' };

const decode = (source: unknown, value: unknown, headers?: Record<string, string>) => {
  const result = decoderFor(sourceSchema.parse(source))(message(value, headers));
  if (!result.ok) throw new Error(`${result.reason}: ${result.detail}`);
  return result.event;
};

describe('error details by path, on any source', () => {
  it('a CloudEvents source takes them from data, keeping every CloudEvents check', () => {
    expect(decode({ name: 'billing', errors: ERRORS }, CE).error).toEqual({ class: 'validation_error', code: 'plan_unknown', message: 'no such plan' });
    // Still a CloudEvents source: a message without specversion is refused as before.
    const { specversion: _drop, ...noSpec } = CE;
    const refused = decoderFor(sourceSchema.parse({ name: 'billing', errors: ERRORS }))(message(noSpec));
    expect(refused.ok).toBe(false);
  });

  it('binary mode reads the same paths (data is the message value)', () => {
    const headers = { ce_specversion: '1.0', ce_id: 'evt-1', ce_source: 'billing', ce_type: 'entitlement.failed', ce_correlationid: 'up-1', 'content-type': 'application/json' };
    expect(decode({ name: 'billing', errors: ERRORS }, CE.data, headers).error).toEqual({ class: 'validation_error', code: 'plan_unknown', message: 'no such plan' });
  });

  it('without errors configured nothing changes: no error from data', () => {
    expect(decode({ name: 'billing' }, CE).error).toBeUndefined();
  });

  it('the errorcode/errorclass extension attributes win over paths; paths fill in the rest', () => {
    expect(decode({ name: 'billing', errors: ERRORS }, { ...CE, errorclass: 'auth_error' }).error).toEqual({ class: 'auth_error', code: 'plan_unknown', message: 'no such plan' });
  });

  it('numbers are read as text; a missing path leaves the field out', () => {
    expect(decode({ name: 'billing', errors: { code: 'data.status', class: 'data.nothing.here' } }, { ...CE, data: { status: 409 } }).error).toEqual({ code: '409' });
  });

  it('a mapped source takes them by path too, beside its mapping', () => {
    const source = {
      name: 'billing',
      format: 'mapped',
      mapping: { id: { path: 'id' }, type: { path: 'type' }, correlationid: { path: 'meta.cid' }, time: { path: 'created', format: 'unix-s' } },
      errors: { class: 'last_error.type', code: 'last_error.code' },
    };
    expect(decode(source, { id: 'in_1', type: 'invoice.failed', meta: { cid: 'up-1' }, created: 1_795_000_000, last_error: { type: 'card_declined', code: 'insufficient_funds' } }).error).toEqual({ class: 'card_declined', code: 'insufficient_funds' });
  });

  it('errors.rules match on what the paths read', () => {
    const event = decode({ name: 'billing', errors: ERRORS }, CE);
    const classify = compileClassifier(errorClassificationSchema.parse({ rules: [{ code: 'plan_unknown', is: 'transient' }] }));
    expect(classify(event.error!)).toBe('transient');
  });

  it('is validated with the key names', () => {
    const bad = sourceSchema.safeParse({ name: 'billing', errors: { class: 'data..x', kind: 'data.k' } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => `${formatPath(['sources', 0, ...i.path] as (string | number)[])}: ${i.message}`).sort()).toEqual([
      expect.stringMatching(/^sources\[0\]\.errors\.class: /),
      expect.stringMatching(/^sources\[0\]\.errors: unknown key|^sources\[0\]\.errors: Unrecognized key/),
    ]);
  });
});
