import type { EventError } from '../../domain/event.ts';
import { readErrorPaths, type CompiledErrorPaths } from './error-paths.ts';
import { isObject, parseJson, parseTime, reject, type DecodeResult, type RawMessage } from './message.ts';

/**
 * Decodes CloudEvents 1.0 from Kafka in structured mode (the whole event as JSON in the
 * value) or binary mode (attributes in `ce_*` headers, data in the value). The extension
 * attribute `correlationid` is required: without it an event cannot be stitched. Error details
 * come from the `errorcode`/`errorclass`/`errormessage` extension attributes, then from the
 * source's `errors:` field paths (e.g. `data.error.class`).
 */
export function decodeCloudEvent(message: RawMessage, errorPaths: CompiledErrorPaths = []): DecodeResult {
  const binary = message.headers['ce_specversion'] !== undefined;
  let attributes: Record<string, unknown>;
  let data: unknown;
  if (binary) {
    attributes = {};
    for (const [name, value] of Object.entries(message.headers)) {
      if (name.startsWith('ce_')) attributes[name.slice(3)] = value;
    }
    if (message.value && message.value.length > 0) {
      const contentType = message.headers['content-type'] ?? 'application/json';
      if (/json/i.test(contentType)) {
        const parsed = parseJson(message.value);
        if (!parsed.ok) return reject('not-json', `binary-mode data is not JSON: ${parsed.detail}`);
        data = parsed.json;
      } else {
        data = message.value.toString('base64');
      }
    }
  } else {
    if (!message.value || message.value.length === 0) return reject('not-cloudevent', 'empty message and no ce_specversion header');
    const parsed = parseJson(message.value);
    if (!parsed.ok) return reject('not-json', parsed.detail);
    if (!isObject(parsed.json)) return reject('not-cloudevent', 'the value is JSON but not an object');
    attributes = parsed.json;
    data = attributes['data'] ?? (attributes['data_base64'] as unknown);
  }

  if (attributes['specversion'] === undefined) return reject('not-cloudevent', 'no "specversion" attribute');
  if (attributes['specversion'] !== '1.0') return reject('invalid-field', `specversion "${String(attributes['specversion'])}" is not "1.0"`);
  for (const name of ['id', 'source', 'type', 'correlationid'] as const) {
    const value = attributes[name];
    if (value === undefined || value === null || value === '') return reject('missing-field', `no "${name}" attribute`);
    if (typeof value !== 'string') return reject('invalid-field', `"${name}" must be a string`);
  }
  let time = message.timestamp;
  if (attributes['time'] !== undefined) {
    const parsed = parseTime(attributes['time']);
    if (parsed === undefined) return reject('invalid-field', `"time" is not an RFC 3339 timestamp: ${JSON.stringify(attributes['time'])}`);
    time = parsed;
  }
  const error: EventError = {};
  for (const [attr, field] of [['errorcode', 'code'], ['errorclass', 'class'], ['errormessage', 'message']] as const) {
    const value = attributes[attr];
    if (value !== undefined && value !== null) error[field] = String(value);
  }
  // The source's `errors:` paths read the event as JSON (data included), after the extension attributes.
  if (errorPaths.length > 0) readErrorPaths({ ...attributes, data }, errorPaths, error);
  return {
    ok: true,
    event: {
      source: attributes['source'] as string,
      id: attributes['id'] as string,
      type: attributes['type'] as string,
      time,
      correlationId: attributes['correlationid'] as string,
      ...(typeof attributes['subject'] === 'string' ? { subject: attributes['subject'] } : {}),
      ...(data !== undefined ? { data } : {}),
      ...(Object.keys(error).length > 0 ? { error } : {}),
      origin: message.origin,
    },
  };
}
