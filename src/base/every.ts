/**
 * A gate that opens at most once per `ms`: for log lines about a condition that repeats (a store
 * that cannot be read, at every try), so the first is said at once and the rest once a period.
 */
export function atMostEvery(ms: number, now: () => number = Date.now): () => boolean {
  let last = Number.NEGATIVE_INFINITY;
  return () => {
    const at = now();
    if (at - last < ms) return false;
    last = at;
    return true;
  };
}
