import type { IncomingHttpHeaders } from 'node:http';
import type { SourceConfig } from '../config.ts';
import type { RawMessage } from '../decode/message.ts';
import type { Intake } from '../intake.ts';
import type { SignatureConfig } from './config.ts';
import { unpack } from './content.ts';
import { verifySignature } from './signature.ts';

/** One source's path on the intake, with its signing secret when its webhooks are signed. */
export interface Route {
  source: SourceConfig;
  signature?: { config: SignatureConfig; secret: string };
}

/** What a request is answered: the status and its JSON body. */
export interface DeliveryAnswer {
  status: 202 | 400 | 401 | 429 | 503;
  body: Record<string, unknown>;
}

export interface DeliveryContext {
  intake: Intake;
  /** Undefined while the intake takes requests; otherwise its state, for the 503. */
  accepting: string | undefined;
  partition: number;
  now: number;
  nextOffset: () => string;
  /** Waits for the flush that stores what was processed; false when it did not come in time. */
  stored: () => Promise<boolean>;
  onBackpressure: () => void;
}

/** Credentials a sender (or a proxy in front) may add: never kept with a dead letter in the store. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);

export function headersOf(raw: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined && !SECRET_HEADERS.has(name)) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/**
 * One delivery, from request to answer: overload first (nothing is taken), then the signature
 * over the raw body, then the content mode, then each event through the intake; 202 only once
 * the store acknowledged what was accepted. Refused bodies become dead letters with the reason.
 */
export async function deliver({ source, signature }: Route, request: { headers: Record<string, string>; body: Buffer }, ctx: DeliveryContext): Promise<DeliveryAnswer> {
  const { intake, now } = ctx;
  if (ctx.accepting !== undefined) return { status: 503, body: { error: 'unavailable', detail: `the intake is ${ctx.accepting}` } };
  if (intake.overloaded()) {
    ctx.onBackpressure();
    return { status: 429, body: { error: 'overloaded', detail: 'the store is behind; retry later' } };
  }
  const { headers, body } = request;
  const message = (value: Buffer, messageHeaders: Record<string, string>): RawMessage => ({
    value,
    headers: messageHeaders,
    key: null,
    timestamp: now,
    origin: { topic: source.topic, partition: ctx.partition, offset: ctx.nextOffset() },
  });
  if (signature) {
    const check = verifySignature(signature.config, signature.secret, headers, body, now);
    if (!check.ok) {
      intake.refuse(message(body, headers), 'bad-signature', check.detail);
      return { status: 401, body: { error: 'bad-signature', detail: check.detail } };
    }
  }
  const unpacked = unpack(source.format, headers, body);
  if (!unpacked.ok) {
    intake.refuse(message(body, headers), unpacked.reason, unpacked.detail);
    return { status: 400, body: { error: unpacked.reason, detail: unpacked.detail } };
  }
  const refused: { index: number; error: string; detail: string }[] = [];
  unpacked.messages.forEach((m, index) => {
    const result = intake.process(message(m.value, m.headers));
    if (!result.ok) refused.push({ index, error: result.reason, detail: result.detail });
  });
  const accepted = unpacked.messages.length - refused.length;
  if (accepted > 0 && !(await ctx.stored())) {
    // Kept and written once the store is back; the sender's retry is then a redelivery.
    return { status: 503, body: { error: 'store-unavailable', detail: 'the store has not acknowledged the events yet; retry later', accepted: 0 } };
  }
  if (refused.length === 0) return { status: 202, body: { accepted } };
  if (unpacked.mode !== 'batch') return { status: 400, body: { error: refused[0]!.error, detail: refused[0]!.detail } };
  return {
    status: 400,
    body: { error: 'events-refused', detail: `${refused.length} of ${unpacked.messages.length} events were refused; the others were stored`, accepted, refused },
  };
}
