/**
 * Keyed memory with a size limit. A Map iterates in insertion order, so re-inserting a key on
 * every touch keeps the least recently touched key first: that is the one to forget when the
 * limit is reached.
 */

export function touch<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
}

const NOTHING: readonly never[] = Object.freeze([]);

/** Removes the least recently touched entries beyond `max` and returns them, oldest first. */
export function evictOver<K, V>(map: Map<K, V>, max: number): readonly [K, V][] {
  // Called once per event on hot paths: nothing is allocated while under the limit.
  if (map.size <= max) return NOTHING as readonly [K, V][];
  const evicted: [K, V][] = [];
  while (map.size > max) {
    const first = map.entries().next().value as [K, V];
    map.delete(first[0]);
    evicted.push(first);
  }
  return evicted;
}
