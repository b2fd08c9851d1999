/**
 * The idempotency keys of the events a run took in. Most runs hold a handful (an open run
 * waiting for its steps holds one), and a V8 Set costs over 100 bytes even with one entry: a
 * million open runs spent more on their Sets than on anything else. So one key is kept as the
 * string itself, a few as an array just long enough (a linear search over a handful is as fast
 * as a hash), and only past MAX_LISTED_KEYS a Set. A run's keys start as its opening trigger's
 * (see WorkflowRun.eventKeys). Values are replaced, never changed in place.
 */
export type EventKeys = string | readonly string[] | Set<string>;

/** Past this many keys a run's keys go into a Set. */
export const MAX_LISTED_KEYS = 16;

export function hasKey(keys: EventKeys, key: string): boolean {
  if (typeof keys === 'string') return keys === key;
  return keys instanceof Set ? keys.has(key) : keys.includes(key);
}

/** The keys with one more (callers check hasKey first): the value to store in place of `keys`. */
export function withKey(keys: EventKeys, key: string): EventKeys {
  if (typeof keys === 'string') return [keys, key];
  if (keys instanceof Set) return keys.add(key);
  if (keys.length < MAX_LISTED_KEYS) return [...keys, key];
  return new Set([...keys, key]);
}

export function keyCount(keys: EventKeys): number {
  if (typeof keys === 'string') return 1;
  return keys instanceof Set ? keys.size : keys.length;
}
