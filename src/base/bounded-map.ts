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

/**
 * Removes the least recently touched entries beyond `max` and returns them, oldest first. A
 * large map is cut a little further, to `max` less 1/64 of it: a Map keeps a deleted entry's slot
 * until it is rehashed, and every new iterator walks over those slots from the start, so evicting
 * one entry per insert at the limit cost a walk over up to `max` empty slots each time (a dedupe
 * window of 500k keys spent milliseconds per event). Cut in batches, the walk is paid once per
 * max/64 inserts. Maps under 64 entries are cut exactly to `max`.
 */
export function evictOver<K, V>(map: Map<K, V>, max: number): readonly [K, V][] {
  // Called once per event on hot paths: nothing is allocated while under the limit.
  if (map.size <= max) return NOTHING as readonly [K, V][];
  const target = max - Math.floor(max / 64);
  const evicted: [K, V][] = [];
  // One iterator for the whole cut: deleting entries already passed is safe while iterating.
  for (const entry of map) {
    if (map.size <= target) break;
    map.delete(entry[0]);
    evicted.push(entry);
  }
  return evicted;
}
