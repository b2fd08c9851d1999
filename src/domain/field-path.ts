/**
 * Field paths into foreign JSON payloads: `data.object.metadata.correlation_id`,
 * `lines[0].id`, and `["key.with.dots"]` for keys that contain dots.
 */
export type FieldPath = (string | number)[];

const TOKEN = /\.?([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/gy;

export function parseFieldPath(text: string): FieldPath {
  const parts: FieldPath = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    TOKEN.lastIndex = at;
    const match = TOKEN.exec(text);
    if (!match || match.index !== at) throw new Error(`bad field path "${text}" at character ${at + 1}`);
    if (match[1] !== undefined) parts.push(match[1]);
    else if (match[2] !== undefined) parts.push(Number(match[2]));
    else {
      // The quoted form takes JSON escapes; a bad one is a bad path, not a JSON syntax error.
      try {
        parts.push(JSON.parse(`"${match[3]}"`) as string);
      } catch {
        throw new Error(`bad field path "${text}" at character ${at + 1}`);
      }
    }
    at = TOKEN.lastIndex;
  }
  if (parts.length === 0) throw new Error('empty field path');
  return parts;
}

export function readFieldPath(value: unknown, path: FieldPath): unknown {
  let node = value;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    if (typeof part === 'number') {
      if (!Array.isArray(node)) return undefined;
      node = node[part];
    } else {
      if (Array.isArray(node) || !Object.hasOwn(node, part)) return undefined;
      node = (node as Record<string, unknown>)[part];
    }
  }
  return node;
}
