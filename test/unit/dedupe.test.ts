import { describe, expect, it } from 'vitest';
import { DedupeWindow } from '../../src/stitch/dedupe.ts';

const MIN = 60_000;
const T0 = Date.UTC(2024, 2, 4, 9);

describe('DedupeWindow', () => {
  it('a key seen for the first time is new, the second time a redelivery', () => {
    const d = new DedupeWindow(10 * MIN, 100);
    expect([d.checkAndRemember('crm\u0000evt-1', T0), d.checkAndRemember('crm\u0000evt-1', T0), d.size]).toEqual([false, true, 1]);
  });

  it('a redelivery with another event time is still a redelivery', () => {
    const d = new DedupeWindow(10 * MIN, 100);
    d.checkAndRemember('k', T0);
    expect(d.checkAndRemember('k', T0 + 5 * MIN)).toBe(true);
  });

  it('keys are compared exactly', () => {
    const d = new DedupeWindow(10 * MIN, 100);
    d.checkAndRemember('crm\u0000evt-1', T0);
    expect(['crm\u0000evt-10', 'CRM\u0000evt-1', 'crm\u0000evt-1 '].map((k) => d.checkAndRemember(k, T0))).toEqual([false, false, false]);
  });

  it.each([
    ['kept while its time is exactly at the horizon', T0 + 10 * MIN, true, 1],
    ['forgotten once its time is older than the horizon', T0 + 10 * MIN + 1, false, 0],
  ])('a key is %s (watermark minus window)', (_label, watermark, stillSeen, size) => {
    const d = new DedupeWindow(10 * MIN, 100);
    d.checkAndRemember('k', T0);
    d.expire(watermark);
    expect(d.size).toBe(size);
    expect(d.checkAndRemember('k', T0)).toBe(stillSeen);
  });

  it('expire forgets only the old keys', () => {
    const d = new DedupeWindow(10 * MIN, 100);
    for (let i = 0; i < 5; i++) d.checkAndRemember(`k${i}`, T0 + i * MIN);
    d.expire(T0 + 12 * MIN);
    expect([d.size, d.checkAndRemember('k2', T0), d.checkAndRemember('k1', T0)]).toEqual([3, true, false]);
  });

  it('expire before anything is due changes nothing', () => {
    const d = new DedupeWindow(10 * MIN, 100);
    d.checkAndRemember('a', T0);
    d.checkAndRemember('b', T0 + MIN);
    d.expire(Number.NEGATIVE_INFINITY);
    d.expire(T0);
    expect(d.size).toBe(2);
  });

  it('holds at most maxKeys, forgetting the oldest first', () => {
    const d = new DedupeWindow(10 * MIN, 3);
    for (const key of ['a', 'b', 'c', 'd']) d.checkAndRemember(key, T0);
    expect(d.size).toBe(3);
    expect(['b', 'c', 'd'].map((k) => d.checkAndRemember(k, T0))).toEqual([true, true, true]);
    expect(d.checkAndRemember('a', T0)).toBe(false);
  });

  it('a redelivery does not count towards maxKeys', () => {
    const d = new DedupeWindow(10 * MIN, 2);
    d.checkAndRemember('a', T0);
    d.checkAndRemember('b', T0);
    for (let i = 0; i < 5; i++) d.checkAndRemember('b', T0);
    expect(d.checkAndRemember('a', T0)).toBe(true);
  });
});
