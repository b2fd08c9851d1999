import { describe, expect, it } from 'vitest';
import { ident, int, list, quote } from '../../src/store/clickhouse/sql.ts';

/**
 * Reads a ClickHouse string literal back the way the server's lexer does: it ends at the first
 * quote not preceded by a backslash, and backslash escapes are resolved. Returns the value and
 * what follows the literal, so a value that escapes its quotes shows up as a non-empty rest.
 */
function readLiteral(sql: string): { value: string; rest: string } {
  if (sql[0] !== "'") throw new Error(`not a literal: ${sql}`);
  const unescape: Record<string, string> = { n: '\n', r: '\r', t: '\t', '0': '\0', b: '\b', f: '\f', '\\': '\\', "'": "'" };
  let value = '';
  for (let i = 1; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === '\\') {
      const next = sql[++i];
      if (next === undefined) throw new Error('dangling backslash');
      value += unescape[next] ?? next;
    } else if (c === "'") {
      return { value, rest: sql.slice(i + 1) };
    } else {
      value += c;
    }
  }
  throw new Error(`unterminated literal: ${sql}`);
}

const HOSTILE = [
  '',
  "it's",
  "''",
  "'); DROP TABLE x; --",
  "x' OR '1'='1",
  'back\\slash',
  "\\'",
  '\\',
  'ends with backslash\\',
  'line\nbreak',
  'carriage\rreturn',
  'tab\there',
  'nul\0byte',
  'bell\bform\ffeed',
  '\x1a\x7f\u2028\u2029',
  'Grüße, 日本語, emoji 🚀, RTL \u202e',
  '`backticks` and "double quotes"',
  '?',
  '{param:String}',
  '/* comment */ -- comment',
  "\\\\'; DROP DATABASE seamwatch; --",
];

describe('quote', () => {
  it.each([
    ['plain text', 'billing', "'billing'"],
    ['an empty string', '', "''"],
    ['a quote', "it's", "'it\\'s'"],
    ['a backslash', 'a\\b', "'a\\\\b'"],
    ['a backslash before a quote', "\\'", "'\\\\\\''"],
    ['an injection attempt', "'); DROP TABLE x; --", "'\\'); DROP TABLE x; --'"],
    ['a newline, a carriage return and a tab', 'a\nb\rc\td', "'a\\nb\\rc\\td'"],
    ['a NUL byte', 'a\0b', "'a\\0b'"],
    ['backspace and form feed', '\b\f', "'\\b\\f'"],
    ['unicode, unchanged', 'Grüße 日本 🚀', "'Grüße 日本 🚀'"],
    ['double quotes and backticks, unchanged', '"x" `y`', "'\"x\" `y`'"],
  ])('writes %s as a literal', (_label, value, sql) => {
    expect(quote(value)).toBe(sql);
  });

  it.each(HOSTILE.map((s) => [JSON.stringify(s), s]))('reads %s back exactly, with nothing after the literal', (_label, value) => {
    expect(readLiteral(quote(value))).toEqual({ value, rest: '' });
  });

  it('reads random strings of quotes, backslashes and control characters back exactly', () => {
    // A fixed linear congruential generator: the same strings on every run.
    let seed = 20240304;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const alphabet = ["'", '\\', '\n', '\r', '\t', '\0', '\b', '\f', 'a', ' ', ';', '-', '"', '`', 'é', '\u{1F680}'];
    for (let n = 0; n < 500; n++) {
      const value = Array.from({ length: next() % 24 }, () => alphabet[next() % alphabet.length]!).join('');
      expect(readLiteral(quote(value))).toEqual({ value, rest: '' });
    }
  });

  it('never leaves a raw line break in the SQL text', () => {
    for (const value of HOSTILE) expect(quote(value)).not.toMatch(/[\n\r\0]/);
  });
});

describe('int', () => {
  it.each([
    [0, '0'],
    [-0, '0'],
    [42, '42'],
    [-7, '-7'],
    [1_709_542_800_000, '1709542800000'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [Number.MIN_SAFE_INTEGER, '-9007199254740991'],
  ])('writes %d as %s', (value, sql) => {
    expect(int(value)).toBe(sql);
  });

  it.each([
    [1.5, 'not a safe integer for SQL: 1.5'],
    [Number.MAX_SAFE_INTEGER + 1, 'not a safe integer for SQL: 9007199254740992'],
    [Number.NaN, 'not a safe integer for SQL: NaN'],
    [Number.POSITIVE_INFINITY, 'not a safe integer for SQL: Infinity'],
    [Number.NEGATIVE_INFINITY, 'not a safe integer for SQL: -Infinity'],
    [1e21, 'not a safe integer for SQL: 1e+21'],
  ])('refuses %d', (value, message) => {
    expect(() => int(value)).toThrow(new TypeError(message));
  });

  it('refuses a string that only looks like a number, should one get past the types', () => {
    expect(() => int('1; DROP TABLE x' as unknown as number)).toThrow(TypeError);
  });
});

describe('list', () => {
  it.each<[string, (string | number)[], string]>([
    ['an empty list as one that matches nothing', [], '(NULL)'],
    ['one string', ['crm'], "('crm')"],
    ['strings, each quoted', ['crm', "it's", 'a\\b'], "('crm', 'it\\'s', 'a\\\\b')"],
    ['numbers', [0, 3, 12], '(0, 3, 12)'],
    ['a mixture', [1, 'x'], "(1, 'x')"],
    ['a hostile string', ["') OR 1=1 --"], "('\\') OR 1=1 --')"],
  ])('writes %s', (_label, values, sql) => {
    expect(list(values)).toBe(sql);
  });

  it('refuses a number that is not a safe integer', () => {
    expect(() => list([1, 2.5])).toThrow(new TypeError('not a safe integer for SQL: 2.5'));
  });
});

describe('ident', () => {
  it.each([
    ['seamwatch', '`seamwatch`'],
    ['runs_v2', '`runs_v2`'],
    ['_tmp', '`_tmp`'],
    ['Events', '`Events`'],
  ])('back-quotes the plain identifier %s', (name, sql) => {
    expect(ident(name)).toBe(sql);
  });

  it.each(['', '1runs', 'seam-watch', 'db.table', 'a b', 'a`b', '`x`', 'x; DROP TABLE y', "x'", 'grüße', 'x\n', ' x'])(
    'refuses %j',
    (name) => {
      expect(() => ident(name)).toThrow(new TypeError(`not a plain identifier: ${JSON.stringify(name)}`));
    },
  );
});
