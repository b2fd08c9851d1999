import { describe, expect, it } from 'vitest';
import { DueQueue } from '../../src/stitch/due-queue.ts';

interface Item {
  name: string;
  queuedDue: number;
}

const item = (name: string): Item => ({ name, queuedDue: Number.POSITIVE_INFINITY });
const names = (items: Item[]) => items.map((i) => i.name);

describe('DueQueue', () => {
  it('hands out items due up to a time, earliest first, and keeps the rest', () => {
    const q = new DueQueue<Item>();
    const items = [5, 1, 9, 3, 7, 3, 2].map((at, i) => {
      const it = item(`${at}/${i}`);
      q.schedule(it, at);
      return it;
    });
    expect(names(q.takeDue(3)).map((n) => Number(n.split('/')[0]))).toEqual([1, 2, 3, 3]);
    expect(q.next).toBe(5);
    expect(names(q.takeDue(100))).toEqual(['5/0', '7/4', '9/2']);
    expect(items.every((i) => i.queuedDue === Number.POSITIVE_INFINITY)).toBe(true);
    expect(q.size).toBe(0);
  });

  it('orders many items as a sort would', () => {
    const q = new DueQueue<Item>();
    const times = Array.from({ length: 500 }, (_, i) => (i * 7919) % 1009);
    times.forEach((at, i) => q.schedule(item(String(i)), at));
    const out = q.takeDue(Number.POSITIVE_INFINITY).map((i) => times[Number(i.name)]);
    expect(out).toEqual([...times].sort((a, b) => a - b));
  });

  it('moves an item earlier, and hands it out once: the entry it left is skipped', () => {
    const q = new DueQueue<Item>();
    const a = item('a');
    q.schedule(a, 10);
    q.schedule(a, 4);
    expect(names(q.takeDue(5))).toEqual(['a']);
    expect(q.takeDue(20)).toEqual([]);
  });

  it('does not move an item later: it surfaces at the earlier time, for its owner to schedule again', () => {
    const q = new DueQueue<Item>();
    const a = item('a');
    q.schedule(a, 4);
    q.schedule(a, 10);
    expect(names(q.takeDue(4))).toEqual(['a']);
    q.schedule(a, 10);
    expect(q.takeDue(9)).toEqual([]);
    expect(names(q.takeDue(10))).toEqual(['a']);
  });

  it('schedules nothing at Infinity', () => {
    const q = new DueQueue<Item>();
    q.schedule(item('a'), Number.POSITIVE_INFINITY);
    expect(q.size).toBe(0);
    expect(q.next).toBe(Number.POSITIVE_INFINITY);
  });

  it('an item scheduled again while its owner handles it waits for the next take, even if already due', () => {
    const q = new DueQueue<Item>();
    const a = item('a');
    q.schedule(a, 1);
    const due = q.takeDue(5);
    for (const it of due) q.schedule(it, 3);
    expect(names(due)).toEqual(['a']);
    expect(names(q.takeDue(5))).toEqual(['a']);
  });
});
