import { describe, expect, it } from 'vitest';
import { evictOver, touch } from '../../src/base/bounded-map.ts';

describe('evictOver', () => {
  it('cuts a small map exactly to its limit, oldest first, and returns what it cut', () => {
    const map = new Map([['a', 1], ['b', 2], ['c', 3], ['d', 4]]);
    touch(map, 'a', 1);
    expect(evictOver(map, 2)).toEqual([['b', 2], ['c', 3]]);
    expect([...map.keys()]).toEqual(['d', 'a']);
    expect(evictOver(map, 2)).toEqual([]);
  });

  it('cuts a large map over its limit to the limit less 1/64, oldest first, so the next cuts come in batches', () => {
    const max = 6_400;
    const map = new Map<number, number>();
    const evicted: number[] = [];
    for (let i = 0; i <= max; i++) {
      map.set(i, i);
      for (const [k] of evictOver(map, max)) evicted.push(k);
    }
    expect(map.size).toBe(max - 100);
    expect(evicted).toEqual(Array.from({ length: 101 }, (_, i) => i));
    // The next 100 inserts fit without a cut; the 101st cuts again.
    for (let i = max + 1; i <= max + 100; i++) {
      map.set(i, i);
      expect(evictOver(map, max)).toEqual([]);
    }
    map.set(max + 101, 0);
    expect(evictOver(map, max).map(([k]) => k)).toEqual(Array.from({ length: 101 }, (_, i) => 101 + i));
    expect(map.size).toBe(max - 100);
  });

  it('never leaves more than the limit however many keys arrive past it', () => {
    const map = new Map<number, number>();
    for (let i = 0; i < 300_000; i++) {
      map.set(i, i);
      evictOver(map, 100_000);
      if (map.size > 100_000) throw new Error(`size ${map.size} after key ${i}`);
    }
    expect(map.has(299_999) && !map.has(0)).toBe(true);
  });
});
