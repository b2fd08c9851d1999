import { describe, expect, it } from 'vitest';
import { hasKey, keyCount, MAX_LISTED_KEYS, withKey, type EventKeys } from '../../src/stitch/event-keys.ts';

function keysOf(count: number): EventKeys {
  let keys: EventKeys = 'k0';
  for (let i = 1; i < count; i++) keys = withKey(keys, `k${i}`);
  return keys;
}

describe('a run’s event keys', () => {
  it.each([1, 2, MAX_LISTED_KEYS, MAX_LISTED_KEYS + 1, 40])('holds %i keys: each is found, no other is, and they are counted', (count) => {
    const keys = keysOf(count);
    expect(keyCount(keys)).toBe(count);
    for (let i = 0; i < count; i++) expect(hasKey(keys, `k${i}`)).toBe(true);
    expect(hasKey(keys, `k${count}`)).toBe(false);
    expect(hasKey(keys, 'k')).toBe(false);
  });

  it('keeps one key as the string, a few as an array, many in a Set', () => {
    expect(keysOf(1)).toBe('k0');
    expect(keysOf(MAX_LISTED_KEYS)).toEqual(Array.from({ length: MAX_LISTED_KEYS }, (_, i) => `k${i}`));
    expect(keysOf(MAX_LISTED_KEYS + 1)).toBeInstanceOf(Set);
  });

  it('never changes a listed value in place', () => {
    const two = keysOf(2);
    withKey(two, 'k2');
    expect(two).toEqual(['k0', 'k1']);
  });
});
