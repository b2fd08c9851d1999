import type { EventError, WorkflowEvent } from '../../domain/event.ts';
import { readErrorPaths, type CompiledErrorPaths } from './error-paths.ts';
import { isObject, parseJson, parseTime, reject, type DecodeResult, type RawMessage } from './message.ts';

/**
 * Decodes CloudEvents 1.0 from Kafka in structured mode (the whole event as JSON in the
 * value) or binary mode (attributes in `ce_*` headers, data in the value). The extension
 * attribute `correlationid` is required: without it an event cannot be stitched. Error details
 * come from the `errorcode`/`errorclass`/`errormessage` extension attributes, then from the
 * source's `errors:` field paths (e.g. `data.error.class`).
 */
const REQUIRED = ['id', 'source', 'type', 'correlationid'] as const;
const ERROR_ATTRIBUTES = [
  ['errorcode', 'code'],
  ['errorclass', 'class'],
  ['errormessage', 'message'],
] as const;
const JSON_CONTENT = /json/i;

export function decodeCloudEvent(message: RawMessage, errorPaths: CompiledErrorPaths = []): DecodeResult {
  const binary = message.headers['ce_specversion'] !== undefined;
  let attributes: Record<string, unknown>;
  let data: unknown;
  /** The data's JSON text as it came, when it is the whole value (binary mode): stored as is. */
  let dataText: string | undefined;
  if (binary) {
    attributes = {};
    for (const name in message.headers) {
      if (name.startsWith('ce_')) attributes[name.slice(3)] = message.headers[name];
    }
    if (message.value && message.value.length > 0) {
      const contentType = message.headers['content-type'] ?? 'application/json';
      if (JSON_CONTENT.test(contentType)) {
        const parsed = parseJson(message.value);
        if (!parsed.ok) return reject('not-json', `binary-mode data is not JSON: ${parsed.detail}`);
        data = parsed.json;
        dataText = parsed.text;
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
  for (const name of REQUIRED) {
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
  let error: EventError | undefined;
  for (const [attr, field] of ERROR_ATTRIBUTES) {
    const value = attributes[attr];
    if (value !== undefined && value !== null) (error ??= {})[field] = String(value);
  }
  // The source's `errors:` paths read the event as JSON (data included), after the extension attributes.
  if (errorPaths.length > 0) {
    const found = readErrorPaths({ ...attributes, data }, errorPaths, { ...error });
    if (Object.keys(found).length > 0) error = found;
  }
  // Optional fields are set only when present (no spread of throw-away objects per event).
  const event: WorkflowEvent = {
    source: attributes['source'] as string,
    id: attributes['id'] as string,
    type: attributes['type'] as string,
    time,
    correlationId: attributes['correlationid'] as string,
    origin: message.origin,
  };
  if (typeof attributes['subject'] === 'string') event.subject = attributes['subject'];
  if (data !== undefined) {
    event.data = data;
    if (dataText !== undefined) event.dataText = dataText;
  }
  if (error) event.error = error;
  return { ok: true, event };
}
