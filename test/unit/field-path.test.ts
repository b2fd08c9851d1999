import { describe, expect, it } from 'vitest';
import { parseFieldPath, readFieldPath, type FieldPath } from '../../src/domain/field-path.ts';

describe('parseFieldPath', () => {
  it.each<[string, FieldPath]>([
    ['id', ['id']],
    ['data.object.metadata.correlation_id', ['data', 'object', 'metadata', 'correlation_id']],
    ['lines[0].id', ['lines', 0, 'id']],
    ['lines[12][3]', ['lines', 12, 3]],
    ['[0]', [0]],
    ['["key.with.dots"]', ['key.with.dots']],
    ['metadata["correlation.id"].value', ['metadata', 'correlation.id', 'value']],
    ['a["b"]["c"]', ['a', 'b', 'c']],
    ['["say \\"hi\\""]', ['say "hi"']],
    ['["caf\\u00e9"]', ['café']],
    ['["[0]"]', ['[0]']],
    ['[""]', ['']],
    ['kunde.straße', ['kunde', 'straße']],
    ['with-dash_and:colon', ['with-dash_and:colon']],
  ])('parses %j', (text, path) => {
    expect(parseFieldPath(text)).toEqual(path);
  });

  it.each([
    ['', 'empty field path'],
    ['a..b', 'bad field path "a..b" at character 2'],
    ['a.', 'bad field path "a." at character 2'],
    ['a[', 'bad field path "a[" at character 2'],
    ['a]', 'bad field path "a]" at character 2'],
    ['a[-1]', 'bad field path "a[-1]" at character 2'],
    ['a[1.5]', 'bad field path "a[1.5]" at character 2'],
    ['a[ 1]', 'bad field path "a[ 1]" at character 2'],
    ['a["unclosed]', 'bad field path "a["unclosed]" at character 2'],
    ["a['single']", 'bad field path "a[\'single\']" at character 2'],
    ['x.["y"]', 'bad field path "x.["y"]" at character 2'],
    ['["bad \\q escape"]', 'bad field path "["bad \\q escape"]" at character 1'],
  ])('refuses %j with %j', (text, message) => {
    expect(() => parseFieldPath(text)).toThrow(new Error(message));
  });

  it('can be called again after a failure (no state left in the shared pattern)', () => {
    expect(() => parseFieldPath('a..b')).toThrow();
    expect(parseFieldPath('x.y')).toEqual(['x', 'y']);
  });
});

describe('readFieldPath', () => {
  const body = {
    id: 'evt_1',
    count: 0,
    empty: '',
    nothing: null,
    data: { object: { metadata: { 'correlation.id': 'corr-9' }, lines: [{ id: 'li_1' }, { id: 'li_2' }] } },
    list: ['a', 'b'],
  };

  it.each<[string, FieldPath, unknown]>([
    ['a top-level string', ['id'], 'evt_1'],
    ['a falsy number', ['count'], 0],
    ['an empty string', ['empty'], ''],
    ['null', ['nothing'], null],
    ['a key with dots', ['data', 'object', 'metadata', 'correlation.id'], 'corr-9'],
    ['an array element', ['data', 'object', 'lines', 1, 'id'], 'li_2'],
    ['a whole object', ['data', 'object', 'lines', 0], { id: 'li_1' }],
    ['a missing key', ['data', 'missing', 'x'], undefined],
    ['an index past the end', ['list', 5], undefined],
    ['an index into an object', ['data', 0], undefined],
    ['a key into an array', ['list', 'length'], undefined],
    ['a key into a string', ['id', 'length'], undefined],
    ['a key through null', ['nothing', 'x'], undefined],
    ['an inherited property', ['data', 'toString'], undefined],
    ['the prototype', ['__proto__'], undefined],
  ])('reads %s', (_label, path, expected) => {
    expect(readFieldPath(body, path)).toEqual(expected);
  });

  it('reads an own "__proto__" key that JSON.parse created', () => {
    expect(readFieldPath(JSON.parse('{"__proto__": {"x": 1}}'), ['__proto__', 'x'])).toBe(1);
  });
});
