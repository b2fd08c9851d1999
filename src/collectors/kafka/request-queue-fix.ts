import { createRequire } from 'node:module';

/**
 * kafkajs 2.2.4 (unmaintained, see README "Ingest") re-checks its request queue every time a
 * request completes, and with nothing pending and no throttle it does so on a 1 ms timer, again
 * and again, for as long as a broker connection is open (kafkajs issue #1704). An idle seamwatch
 * spent ~4 % of a core on it: a thousand timer wake-ups a second per connection. The delay it
 * passes is negative, which Node 24 also reports as a TimeoutNegativeWarning (kafkajs #1751).
 * Loaded once, before any client is made: with nothing pending and no throttle, no check is
 * scheduled (the fix proposed in kafkajs #1768's review); a request queued later schedules its
 * own, as kafkajs's push() already does.
 */

interface RequestQueueLike {
  throttleCheckTimeoutId: unknown;
  throttledUntil: number;
  pending: unknown[];
  scheduleCheckPendingRequests(): void;
}

const require = createRequire(import.meta.url);
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueueLike & { seamwatchFixed?: true } };

const proto = RequestQueue.prototype;
if (!proto.seamwatchFixed) {
  const schedule = proto.scheduleCheckPendingRequests;
  if (typeof schedule !== 'function') throw new Error('kafkajs changed: RequestQueue.scheduleCheckPendingRequests is gone; review src/collectors/kafka/request-queue-fix.ts');
  proto.scheduleCheckPendingRequests = function (this: RequestQueueLike) {
    if (!this.throttleCheckTimeoutId && this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
    schedule.call(this);
  };
  proto.seamwatchFixed = true;
}

export { RequestQueue };
