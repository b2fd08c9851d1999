import { readFieldPath, type FieldPath } from '../../domain/field-path.ts';

/** One field of a business key: its name in summaries and where to read it in `event.data`. */
export interface BusinessKeyField {
  name: string;
  path: FieldPath;
}

/** A business key read from one event. */
export interface BusinessKey {
  /** Stable and unambiguous, whatever the values contain: the identity of the problem. */
  key: string;
  /** For people: "account_id=acme, billing_period=2026-11". */
  text: string;
  /** Field name → value as text, for summary templates. */
  values: Record<string, string>;
}

/**
 * Reads the key from `data`. Strings, numbers and booleans count; a field that is missing,
 * null or structured means the event has no business key (undefined).
 */
export function readBusinessKey(fields: readonly BusinessKeyField[], data: unknown): BusinessKey | undefined {
  const values: Record<string, string> = {};
  const parts: string[] = [];
  for (const field of fields) {
    const value = readFieldPath(data, field.path);
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return undefined;
    const text = String(value);
    if (text === '') return undefined;
    values[field.name] = text;
    parts.push(text);
  }
  return {
    key: JSON.stringify(parts),
    text: fields.map((f) => `${f.name}=${values[f.name]}`).join(', '),
    values,
  };
}

/**
 * The key a detector tracks an event by: its business key when the detector names one (undefined
 * when the event lacks it), else its correlation ID.
 */
export function trackingKey(
  fields: readonly BusinessKeyField[] | undefined,
  event: { data?: unknown; correlationId: string },
): { key: string; businessKey: BusinessKey | undefined } | undefined {
  if (!fields) return { key: event.correlationId, businessKey: undefined };
  const businessKey = readBusinessKey(fields, event.data);
  return businessKey ? { key: businessKey.key, businessKey } : undefined;
}
