import type { DeadLetterReason } from '../../domain/dead-letter.ts';
import { parseJson } from '../decode/message.ts';

/** One message's value and headers as the source's decoder reads them (the Kafka binding's shape). */
export interface Delivered {
  value: Buffer;
  headers: Record<string, string>;
}

export type Unpacked = { ok: true; mode: ContentMode; messages: Delivered[] } | { ok: false; reason: DeadLetterReason; detail: string };

export type ContentMode = 'structured' | 'binary' | 'batch' | 'mapped';

const STRUCTURED = 'application/cloudevents+json';
const BATCH = 'application/cloudevents-batch+json';

function mediaType(headers: Readonly<Record<string, string>>): string {
  return (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** HTTP binding: ce-* header values are percent-encoded where not printable ASCII. */
function percentDecoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * Splits one HTTP request into the messages the source's decoder takes, by the CloudEvents HTTP
 * binding: structured (`application/cloudevents+json`: the event is the body), batched
 * (`application/cloudevents-batch+json`: a JSON array of structured events) or binary
 * (attributes in `ce-*` headers, the body is the data). Binary attributes are handed on as the
 * Kafka binding's `ce_*` headers, so one decoder serves both transports. A mapped source's body
 * is its provider's own JSON, one event per request.
 */
export function unpack(format: 'cloudevents' | 'mapped', headers: Readonly<Record<string, string>>, body: Buffer): Unpacked {
  const type = mediaType(headers);
  if (format === 'mapped') return { ok: true, mode: 'mapped', messages: [{ value: body, headers: { ...headers } }] };
  if (type === BATCH) {
    const parsed = parseJson(body);
    if (!parsed.ok) return { ok: false, reason: 'not-json', detail: `the batch is not JSON: ${parsed.detail}` };
    if (!Array.isArray(parsed.json)) return { ok: false, reason: 'not-cloudevent', detail: `a ${BATCH} body must be a JSON array of events` };
    const messages = parsed.json.map((event) => ({ value: Buffer.from(JSON.stringify(event)), headers: { 'content-type': STRUCTURED } }));
    return { ok: true, mode: 'batch', messages };
  }
  if (type === STRUCTURED) return { ok: true, mode: 'structured', messages: [{ value: body, headers: { 'content-type': STRUCTURED } }] };
  if (headers['ce-specversion'] !== undefined) {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (name.startsWith('ce-')) out[`ce_${name.slice(3)}`] = percentDecoded(value);
    }
    if (headers['content-type'] !== undefined) out['content-type'] = headers['content-type'];
    return { ok: true, mode: 'binary', messages: [{ value: body, headers: out }] };
  }
  return {
    ok: false,
    reason: 'not-cloudevent',
    detail: `Content-Type "${type || '(none)'}" with no ce-specversion header is not a CloudEvent: use ${STRUCTURED}, ${BATCH}, or binary mode (ce-* headers)`,
  };
}
