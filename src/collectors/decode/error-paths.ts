import type { EventError } from '../../domain/event.ts';
import { parseFieldPath, readFieldPath, type FieldPath } from '../../domain/field-path.ts';

/** A source's `errors:` — where in each event its error details are, by field path. */
export interface ErrorPathsConfig {
  code?: string | undefined;
  class?: string | undefined;
  message?: string | undefined;
}

export type CompiledErrorPaths = readonly (readonly [keyof EventError, FieldPath])[];

export function compileErrorPaths(config: ErrorPathsConfig | undefined): CompiledErrorPaths {
  return (['code', 'class', 'message'] as const).flatMap((field) => (config?.[field] ? [[field, parseFieldPath(config[field]!)] as const] : []));
}

/**
 * Fills in the error fields `error` does not have yet from `root` (the CloudEvent as JSON, or a
 * mapped source's payload): strings and numbers are taken as text; anything else, or nothing at
 * the path, leaves the field out.
 */
export function readErrorPaths(root: unknown, paths: CompiledErrorPaths, error: EventError): EventError {
  for (const [field, path] of paths) {
    if (error[field] !== undefined) continue;
    const value = readFieldPath(root, path);
    if (typeof value === 'string' ? value !== '' : typeof value === 'number' || typeof value === 'bigint') error[field] = String(value);
  }
  return error;
}
