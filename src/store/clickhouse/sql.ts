/**
 * Every value that goes into SQL text passes through here: ClickHouse 18.16 has no server-side
 * query parameters, so escaping is done on our side, in one place, and tested with hostile input.
 */

const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\0': '\\0',
  '\b': '\\b',
  '\f': '\\f',
};

/** A string literal: 'it\'s'. */
export function quote(value: string): string {
  return `'${value.replace(/[\\'\n\r\t\0\b\f]/g, (c) => ESCAPES[c]!)}'`;
}

/** An integer literal; refuses anything that is not a safe integer. */
export function int(value: number): string {
  if (!Number.isSafeInteger(value)) throw new TypeError(`not a safe integer for SQL: ${value}`);
  return String(value);
}

/** A parenthesised list for IN: ('a', 'b'). An empty list becomes one that matches nothing. */
export function list(values: readonly (string | number)[]): string {
  if (values.length === 0) return '(NULL)';
  return `(${values.map((v) => (typeof v === 'number' ? int(v) : quote(v))).join(', ')})`;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A database or table name; only plain identifiers are accepted, then back-quoted. */
export function ident(name: string): string {
  if (!IDENTIFIER.test(name)) throw new TypeError(`not a plain identifier: ${JSON.stringify(name)}`);
  return `\`${name}\``;
}
