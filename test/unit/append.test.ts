import { describe, expect, it } from 'vitest';
import { appendAll } from '../../src/base/append.ts';

describe('appendAll', () => {
  it('appends more items than a spread call can take as arguments', () => {
    const items = Array.from({ length: 500_000 }, (_, i) => i);
    expect(() => [0].push(...items)).toThrow(RangeError);
    const target = [-1];
    appendAll(target, items);
    expect(target.length).toBe(500_001);
    expect([target[0], target[1], target.at(-1)]).toEqual([-1, 0, 499_999]);
  });
});
