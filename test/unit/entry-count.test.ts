import { describe, expect, it } from 'vitest';
import { entryCount } from '../../src/base/entry-count.ts';

describe('entryCount: how much state an opaque value holds', () => {
  it.each([
    ['a map of sets', new Map([['a', new Set([1, 2])], ['b', new Set([3])]]), 2 + 3],
    ['an object of arrays', { open: [1, 2, 3], seen: new Map([['k', 1]]) }, 3 + 1],
    ['plain values', { n: 1, s: 'x', none: null }, 0],
    ['nesting past the depth limit is not walked', [[[[[[1, 2]]]]]], 5],
  ])('%s', (_name, value, expected) => {
    expect(entryCount(value)).toBe(expected);
  });
});
