import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PagerDutyAction } from './event.ts';

/** Fixed label values: a dedup key, team or routing key is never a label. */
export const OUTCOMES = ['accepted', 'rejected', 'retried', 'gave-up', 'queue-full'] as const;
export type PagerDutyOutcome = (typeof OUTCOMES)[number];
const ACTIONS: readonly PagerDutyAction[] = ['trigger', 'resolve'];

export class PagerDutyMetrics {
  /** accepted, rejected (400 or invalid locally), gave-up and queue-full count events; retried counts retries. */
  readonly events: Counter<'action' | 'outcome'>;
  readonly queued: Gauge;
  readonly requestSeconds: Histogram<'action'>;
  /** From send() to PagerDuty's 202: what a page's latency owes to delivery. */
  readonly deliverySeconds: Histogram<'action'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.events = new Counter({
      name: 'seamwatch_pagerduty_events_total',
      help: 'PagerDuty events by outcome: accepted, rejected (400 or invalid before sending), retried (per retry), gave-up (deadline or shutdown), queue-full.',
      labelNames: ['action', 'outcome'],
      registers,
    });
    this.queued = new Gauge({ name: 'seamwatch_pagerduty_queue_events', help: 'PagerDuty events waiting or in delivery.', registers });
    this.requestSeconds = new Histogram({
      name: 'seamwatch_pagerduty_request_seconds',
      help: 'Duration of one request to the PagerDuty Events API, whatever its answer.',
      labelNames: ['action'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.deliverySeconds = new Histogram({
      name: 'seamwatch_pagerduty_delivery_seconds',
      help: 'Time from send() to PagerDuty accepting the event, retries included.',
      labelNames: ['action'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    // Zeroes up front, so a dashboard (and an alert on rejected > 0) sees the series from the start.
    for (const action of ACTIONS) for (const outcome of OUTCOMES) this.events.inc({ action, outcome }, 0);
  }

  count(action: PagerDutyAction, outcome: PagerDutyOutcome): void {
    this.events.inc({ action, outcome });
  }
}
