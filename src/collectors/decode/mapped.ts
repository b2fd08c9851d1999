import type { MappingConfig } from '../config.ts';
import type { EventError, WorkflowEvent } from '../../domain/event.ts';
import { parseFieldPath, readFieldPath, type FieldPath } from '../../domain/field-path.ts';
import { readErrorPaths, type CompiledErrorPaths } from './error-paths.ts';
import { isObject, parseJson, parseTime, reject, type Decoder, type DecodeResult } from './message.ts';

type CompiledField = { path: FieldPath; text: string } | { value: string };

function compileField(field: { path: string } | { value: string }): CompiledField {
  return 'path' in field ? { path: parseFieldPath(field.path), text: field.path } : { value: field.value };
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

function read(body: Record<string, unknown>, field: CompiledField): unknown {
  return 'value' in field ? field.value : readFieldPath(body, field.path);
}

/** The field's text, or the dead-letter result saying it is missing. */
function required(body: Record<string, unknown>, field: CompiledField, name: string): string | DecodeResult {
  const value = scalar(read(body, field));
  if (value === undefined || value === '') {
    return reject('missing-field', 'path' in field ? `${name}: nothing at path "${field.text}"` : `${name}: empty`);
  }
  return value;
}

/**
 * Builds a decoder that maps a foreign JSON payload (a billing provider's webhook, say) to the
 * canonical event by field paths. The source is the configured source name.
 */
export function compileMappedDecoder(sourceName: string, mapping: MappingConfig, errorPaths: CompiledErrorPaths = []): Decoder {
  const id = compileField(mapping.id);
  const type = compileField(mapping.type);
  const correlation = compileField(mapping.correlationid);
  const time = compileField(mapping.time);
  const timeFormat = mapping.time.format;
  const subject = mapping.subject && compileField(mapping.subject);
  const data = mapping.data && parseFieldPath(mapping.data.path);
  const errorFields = Object.entries(mapping.error ?? {}).map(([name, field]) => [name as keyof EventError, compileField(field!)] as const);
  const types = new Map(Object.entries(mapping.types));

  return (message): DecodeResult => {
    if (!message.value || message.value.length === 0) return reject('not-json', 'empty message');
    const parsed = parseJson(message.value);
    if (!parsed.ok) return reject('not-json', parsed.detail);
    const body = parsed.json;
    if (!isObject(body)) return reject('mapping-failed', 'the value is JSON but not an object');
    const idValue = required(body, id, 'id');
    if (typeof idValue !== 'string') return idValue;
    const typeValue = required(body, type, 'type');
    if (typeof typeValue !== 'string') return typeValue;
    const correlationValue = required(body, correlation, 'correlationid');
    if (typeof correlationValue !== 'string') return correlationValue;

    const rawTime = read(body, time);
    let timeMs: number | undefined;
    if (rawTime === undefined || rawTime === null) timeMs = message.timestamp;
    else if (timeFormat === 'iso') timeMs = parseTime(rawTime);
    else {
      const n = typeof rawTime === 'number' ? rawTime : typeof rawTime === 'string' && /^\d+(\.\d+)?$/.test(rawTime) ? Number(rawTime) : NaN;
      timeMs = Number.isFinite(n) ? Math.round(timeFormat === 'unix-s' ? n * 1000 : n) : undefined;
    }
    if (timeMs === undefined) return reject('invalid-field', `time: ${JSON.stringify(rawTime)} is not ${timeFormat}`);

    let error: EventError | undefined;
    for (const [name, field] of errorFields) {
      const value = scalar(read(body, field));
      if (value !== undefined && value !== '') (error ??= {})[name] = value;
    }
    if (errorPaths.length > 0) {
      const found = readErrorPaths(body, errorPaths, { ...error });
      if (Object.keys(found).length > 0) error = found;
    }
    const subjectValue = subject ? scalar(read(body, subject)) : undefined;
    const dataValue = data ? readFieldPath(body, data) : body;
    const event: WorkflowEvent = {
      source: sourceName,
      id: idValue,
      type: types.get(typeValue) ?? typeValue,
      time: timeMs,
      correlationId: correlationValue,
      origin: message.origin,
    };
    if (subjectValue !== undefined) event.subject = subjectValue;
    if (dataValue !== undefined) {
      event.data = dataValue;
      // The whole payload is the data: keep its text as it came.
      if (!data) event.dataText = parsed.text;
    }
    if (error) event.error = error;
    return { ok: true, event };
  };
}
