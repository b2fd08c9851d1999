/**
 * A bounded FIFO that hands out items so that two items with the same key are never out at the
 * same time: items of one key leave in the order they came (a resolve never overtakes its
 * trigger), while other keys go past an item that is still being retried.
 */
export class KeyOrderedQueue<T extends { key: string }> {
  private readonly waitingItems: T[] = [];
  private readonly activeKeys = new Set<string>();
  readonly capacity: number;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  /** Items waiting plus items handed out: what the capacity bounds. */
  get held(): number {
    return this.waitingItems.length + this.activeKeys.size;
  }

  get waiting(): number {
    return this.waitingItems.length;
  }

  get active(): number {
    return this.activeKeys.size;
  }

  /** Adds at the tail; false (and nothing added) when the queue holds `capacity` items. */
  offer(item: T): boolean {
    if (this.held >= this.capacity) return false;
    this.waitingItems.push(item);
    return true;
  }

  /** The oldest item whose key is not out, now marked out; undefined when there is none. */
  take(): T | undefined {
    const index = this.waitingItems.findIndex((item) => !this.activeKeys.has(item.key));
    if (index < 0) return undefined;
    const [item] = this.waitingItems.splice(index, 1);
    this.activeKeys.add(item!.key);
    return item;
  }

  /** Marks a taken item finished, which lets the next item of its key go. */
  release(item: T): void {
    this.activeKeys.delete(item.key);
  }
}
