import { describe, expect, it } from 'vitest';
import { signatureSchema } from '../../src/collectors/http/config.ts';
import { sign, verifySignature } from '../../src/collectors/http/signature.ts';

const SECRET = 'whsec_test_secret';
const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const T = String(NOW / 1000);
const BODY = Buffer.from('{"id":"evt_1","type":"invoice.paid"}');
const stripeStyle = signatureSchema.parse({ header: 'Billing-Signature', secretEnv: 'X', tolerance: '5m' });
const separate = signatureSchema.parse({ header: 'X-Signature', timestampHeader: 'X-Signature-Timestamp', secretEnv: 'X', encoding: 'base64' });
const hex = (t: string, body = BODY, secret = SECRET) => sign(secret, t, body).toString('hex');

describe('verifySignature', () => {
  it('accepts a Stripe-style t=,v1= header signed with the secret over timestamp and raw body', () => {
    expect(verifySignature(stripeStyle, SECRET, { 'billing-signature': `t=${T},v1=${hex(T)}` }, BODY, NOW)).toEqual({ ok: true });
  });

  it('accepts a base64 signature with the timestamp in its own header', () => {
    const headers = { 'x-signature': sign(SECRET, T, BODY).toString('base64'), 'x-signature-timestamp': T };
    expect(verifySignature(separate, SECRET, headers, BODY, NOW)).toEqual({ ok: true });
  });

  it('accepts any of several v1 signatures (a secret being rotated)', () => {
    const header = `t=${T},v1=${hex(T, BODY, 'old-secret')},v1=${hex(T)}`;
    expect(verifySignature(stripeStyle, SECRET, { 'billing-signature': header }, BODY, NOW)).toEqual({ ok: true });
  });

  it('accepts a timestamp within the tolerance on either side of the clock', () => {
    const early = String(NOW / 1000 - 299);
    const late = String(NOW / 1000 + 299);
    expect(verifySignature(stripeStyle, SECRET, { 'billing-signature': `t=${early},v1=${hex(early)}` }, BODY, NOW).ok).toBe(true);
    expect(verifySignature(stripeStyle, SECRET, { 'billing-signature': `t=${late},v1=${hex(late)}` }, BODY, NOW).ok).toBe(true);
  });

  it.each([
    ['no header', {}, 'no billing-signature header: this source\'s deliveries must be signed'],
    ['no timestamp', { 'billing-signature': `v1=${hex(T)}` }, 'no timestamp: expected a t= element in billing-signature'],
    ['a timestamp that is not unix seconds', { 'billing-signature': `t=2026-11-29,v1=${hex(T)}` }, 'the timestamp is not unix seconds: "2026-11-29"'],
    ['no signature', { 'billing-signature': `t=${T}` }, 'no signature in the billing-signature header'],
    ['a signature made with another secret', { 'billing-signature': `t=${T},v1=${hex(T, BODY, 'wrong')}` }, 'the billing-signature signature does not match the body'],
    ['a signature of another body', { 'billing-signature': `t=${T},v1=${hex(T, Buffer.from('{}'))}` }, 'the billing-signature signature does not match the body'],
    ['a truncated signature', { 'billing-signature': `t=${T},v1=${hex(T).slice(0, 32)}` }, 'the billing-signature signature does not match the body'],
    ['a signature that is not hex', { 'billing-signature': `t=${T},v1=zz${hex(T).slice(2)}` }, 'the billing-signature signature does not match the body'],
  ] as const)('refuses %s with a clear detail', (_name, headers, detail) => {
    expect(verifySignature(stripeStyle, SECRET, headers, BODY, NOW)).toEqual({ ok: false, detail });
  });

  it('refuses an expired delivery: signed correctly, but longer ago than the tolerance', () => {
    const old = String(NOW / 1000 - 301);
    expect(verifySignature(stripeStyle, SECRET, { 'billing-signature': `t=${old},v1=${hex(old)}` }, BODY, NOW)).toEqual({
      ok: false,
      detail: 'the timestamp is 301s from the wall clock (tolerance 300s): a replay or a wrong clock',
    });
  });

  it('refuses a timestamp from too far in the future', () => {
    const ahead = String(NOW / 1000 + 3600);
    expect(verifySignature(stripeStyle, SECRET, { 'billing-signature': `t=${ahead},v1=${hex(ahead)}` }, BODY, NOW).ok).toBe(false);
  });

  it('refuses a replayed signature given a fresh timestamp: the timestamp is part of what is signed', () => {
    const captured = String(NOW / 1000 - 3600);
    expect(verifySignature(stripeStyle, SECRET, { 'billing-signature': `t=${T},v1=${hex(captured)}` }, BODY, NOW)).toEqual({
      ok: false,
      detail: 'the billing-signature signature does not match the body',
    });
  });

  it('refuses a replay through a separate timestamp header that was changed', () => {
    const captured = String(NOW / 1000 - 3600);
    const headers = { 'x-signature': sign(SECRET, captured, BODY).toString('base64'), 'x-signature-timestamp': T };
    expect(verifySignature(separate, SECRET, headers, BODY, NOW).ok).toBe(false);
  });
});
