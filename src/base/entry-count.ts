/**
 * Roughly how many entries a piece of in-memory state holds: the sizes of its maps, sets and
 * arrays, nested ones included. For gauges and the soak benchmark, which watch state that
 * must not grow; a detector's state is opaque to whoever holds it, so it is walked.
 */
export function entryCount(value: unknown, depth = 4): number {
  if (depth < 0 || value === null || typeof value !== 'object') return 0;
  let n = 0;
  if (value instanceof Map) {
    n += value.size;
    for (const v of value.values()) n += entryCount(v, depth - 1);
  } else if (value instanceof Set || Array.isArray(value)) {
    const items = value instanceof Set ? [...value] : value;
    n += items.length;
    for (const v of items) n += entryCount(v, depth - 1);
  } else {
    for (const v of Object.values(value)) n += entryCount(v, depth - 1);
  }
  return n;
}
