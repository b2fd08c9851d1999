import { afterEach, describe, expect, it } from 'vitest';
import { RequestQueue } from '../../src/collectors/kafka/request-queue-fix.ts';

type Queue = { throttleCheckTimeoutId: NodeJS.Timeout | null; throttledUntil: number; pending: unknown[]; scheduleCheckPendingRequests(): void; destroy(): void };

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const queues: Queue[] = [];
const queue = (): Queue => {
  const Constructor = RequestQueue as unknown as new (options: object) => Queue;
  const q = new Constructor({ maxInFlightRequests: null, requestTimeout: 30_000, enforceRequestTimeout: true, clientId: 'test', broker: 'localhost:0', logger: quiet });
  queues.push(q);
  return q;
};

afterEach(() => {
  for (const q of queues.splice(0)) {
    if (q.throttleCheckTimeoutId) clearTimeout(q.throttleCheckTimeoutId);
    q.throttleCheckTimeoutId = null;
  }
});

describe("kafkajs's request queue, as seamwatch loads it", () => {
  it('schedules no re-check with nothing pending and no throttle: no 1 ms loop on an idle connection, no negative timer', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const q = queue();
      q.scheduleCheckPendingRequests();
      expect(q.throttleCheckTimeoutId).toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(warnings).not.toContain('TimeoutNegativeWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('still schedules one when requests wait, or when the broker throttles', () => {
    const waiting = queue();
    waiting.pending.push({});
    waiting.scheduleCheckPendingRequests();
    expect(waiting.throttleCheckTimeoutId).not.toBeNull();
    const throttled = queue();
    throttled.throttledUntil = Date.now() + 1_000;
    throttled.scheduleCheckPendingRequests();
    expect(throttled.throttleCheckTimeoutId).not.toBeNull();
  });
});
