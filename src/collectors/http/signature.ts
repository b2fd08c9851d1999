import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SignatureConfig } from './config.ts';

export type SignatureCheck = { ok: true } | { ok: false; detail: string };

/** What a signature header holds: the timestamp if it carries one, and the candidate signatures. */
function parseHeader(value: string): { timestamp?: string; signatures: string[] } {
  const signatures: string[] = [];
  let timestamp: string | undefined;
  for (const part of value.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    // base64 signatures may end in '=': an element is `name=value` only for the names known here.
    const name = eq > 0 ? item.slice(0, eq).toLowerCase() : '';
    if (name === 't') timestamp = item.slice(eq + 1);
    else if (name === 'v1' || name === 'sha256') signatures.push(item.slice(eq + 1));
    else signatures.push(item);
  }
  return { ...(timestamp !== undefined ? { timestamp } : {}), signatures };
}

function decode(signature: string, encoding: SignatureConfig['encoding']): Buffer | undefined {
  if (encoding === 'hex') return /^[0-9a-f]+$/i.test(signature) && signature.length % 2 === 0 ? Buffer.from(signature, 'hex') : undefined;
  return /^[A-Za-z0-9+/_-]+={0,2}$/.test(signature) ? Buffer.from(signature, 'base64') : undefined;
}

/** The signature a sender with the secret computes: HMAC-SHA256 over `<timestamp>.<raw body>`. */
export function sign(secret: string, timestamp: string, body: Buffer): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
}

/**
 * Verifies a signed webhook against the raw body as received (never a re-serialised one), given
 * the wall clock. The timestamp is part of what is signed, so an old delivery cannot be replayed
 * with a fresh one; outside the tolerance it is refused. Signatures are compared in constant
 * time; several (a secret being rotated) may be offered and any may match.
 */
export function verifySignature(
  config: SignatureConfig,
  secret: string,
  headers: Readonly<Record<string, string>>,
  body: Buffer,
  now: number,
): SignatureCheck {
  const value = headers[config.header];
  if (value === undefined || value === '') return { ok: false, detail: `no ${config.header} header: this source's deliveries must be signed` };
  const parsed = parseHeader(value);
  const timestamp = config.timestampHeader ? headers[config.timestampHeader] : parsed.timestamp;
  const from = config.timestampHeader ? `the ${config.timestampHeader} header` : `a t= element in ${config.header}`;
  if (timestamp === undefined || timestamp === '') return { ok: false, detail: `no timestamp: expected ${from}` };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, detail: `the timestamp is not unix seconds: ${JSON.stringify(timestamp.slice(0, 32))}` };
  const skew = Math.abs(now - Number(timestamp) * 1000);
  if (skew > config.tolerance) {
    return { ok: false, detail: `the timestamp is ${Math.round(skew / 1000)}s from the wall clock (tolerance ${Math.round(config.tolerance / 1000)}s): a replay or a wrong clock` };
  }
  if (parsed.signatures.length === 0) return { ok: false, detail: `no signature in the ${config.header} header` };
  const expected = sign(secret, timestamp, body);
  for (const candidate of parsed.signatures) {
    const given = decode(candidate, config.encoding);
    // timingSafeEqual throws on different lengths; a length says nothing about the secret.
    if (given && given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, detail: `the ${config.header} signature does not match the body` };
}
