import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { KeyOrderedQueue } from '../../src/alerts/pagerduty/key-ordered-queue.ts';
import { compileNotifierOptions } from '../../src/alerts/pagerduty/options.ts';
import { PagerDutyOptionsError } from '../../src/alerts/pagerduty/options-error.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

const item = (key: string, name: string) => ({ key, name });

describe('KeyOrderedQueue', () => {
  it('hands items of one key out one at a time, in the order they came', () => {
    const q = new KeyOrderedQueue<{ key: string; name: string }>(10);
    q.offer(item('a', 'trigger a'));
    q.offer(item('a', 'resolve a'));
    const first = q.take();
    expect(first?.name).toBe('trigger a');
    expect(q.take()).toBeUndefined(); // the resolve waits for its trigger
    q.release(first!);
    expect(q.take()?.name).toBe('resolve a');
  });

  it('lets other keys go past an item still being delivered', () => {
    const q = new KeyOrderedQueue<{ key: string; name: string }>(10);
    for (const [k, n] of [['a', 'trigger a'], ['a', 'resolve a'], ['b', 'trigger b'], ['a', 'trigger a again'], ['c', 'trigger c']] as const) q.offer(item(k, n));
    expect([q.take()?.name, q.take()?.name, q.take()?.name, q.take()]).toEqual(['trigger a', 'trigger b', 'trigger c', undefined]);
    expect(q.active).toBe(3);
    expect(q.waiting).toBe(2);
  });

  it('counts waiting and handed-out items against the capacity, and refuses beyond it', () => {
    const q = new KeyOrderedQueue<{ key: string; name: string }>(2);
    expect(q.offer(item('a', '1'))).toBe(true);
    const taken = q.take()!;
    expect(q.offer(item('b', '2'))).toBe(true);
    expect(q.offer(item('c', '3'))).toBe(false);
    expect(q.held).toBe(2);
    q.release(taken);
    expect(q.offer(item('c', '3'))).toBe(true);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new KeyOrderedQueue(0)).toThrow(RangeError);
    expect(() => new KeyOrderedQueue(1.5)).toThrow(RangeError);
  });
});

describe('compileNotifierOptions', () => {
  const base = { registry: new Registry(), logger: silentLogger() };

  it('fills the defaults: PagerDuty endpoint, bounded queue, retries within 10 minutes', () => {
    const o = compileNotifierOptions(base);
    expect(o).toMatchObject({ url: 'https://events.pagerduty.com/v2/enqueue', source: 'seamwatch', queueSize: 1_000, concurrency: 4, requestTimeoutMs: 10_000, shutdownTimeoutMs: 10_000 });
    expect(o.retry).toEqual({ baseMs: 1_000, maxMs: 60_000, deadlineMs: 600_000 });
  });

  it('reports every problem with its option name', () => {
    let error: unknown;
    try {
      compileNotifierOptions({ ...base, url: 'events.pagerduty.com/v2/enqueue', source: '', queueSize: 0, concurrency: 2.5, retry: { baseMs: 5_000, maxMs: 1_000 }, clientUrl: 'ftp://x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PagerDutyOptionsError);
    expect((error as PagerDutyOptionsError).problems).toEqual([
      'url: not an absolute http(s) URL: "events.pagerduty.com/v2/enqueue"',
      'source: must not be empty',
      'clientUrl: not an absolute http(s) URL: "ftp://x"',
      'queueSize: must be a positive integer, got 0',
      'concurrency: must be a positive integer, got 2.5',
      'retry.maxMs: must be at least retry.baseMs (5000), got 1000',
    ]);
  });
});
