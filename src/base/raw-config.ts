/** Readers for raw, unvalidated config input of any shape, for checks that run beside the schema. */
export const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
export const asObject = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
export const asString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** A problem found in raw config input, at its key path. */
export interface ReferenceProblem {
  path: (string | number)[];
  message: string;
}

/** Formats a key path the way the YAML reads: workflows[2].steps[0].type */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}
