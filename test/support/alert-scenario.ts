import type { Message } from 'kafkajs';
import { cloudEvent, T0, type ScenarioTopics } from './scenario.ts';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;

/** A billing provider's webhook body, as the scenario config maps it. */
export function webhook(type: string, id: string, c: string, time: number, object: Record<string, unknown> = {}): Message {
  return { key: c, value: JSON.stringify({ id, type, created: time, data: { object: { metadata: { correlation_id: c }, ...object } } }) };
}

/** A heartbeat on every partition of every topic: event time reaches `time` everywhere. */
export function heartbeats(topics: ScenarioTopics, time: number, partitions = 4): Map<string, Message[]> {
  return new Map(
    Object.entries(topics).map(([name, topic]) => [
      topic,
      Array.from({ length: partitions }, (_, partition) => ({
        ...(name === 'billing' ? webhook('heartbeat', `hb-${time}-${partition}`, `hb-${partition}`, time) : cloudEvent(name, 'heartbeat', `hb-${time}-${partition}`, `hb-${partition}`, time, false)),
        partition,
      })),
    ]),
  );
}

/**
 * Real problems and things that must not alert, side by side: an upgrade that went fine, one
 * whose 429 healed on retry, one charged but declined (partial failure, deadline missed), one
 * never entitled (deadline missed), a duplicate invoice for acct-1, a redelivered invoice for
 * acct-2, a ticket that gets stuck (tk-stuck) and one that is resolved in time.
 */
export function alertScenario(topics: ScenarioTopics): Map<string, Message[]> {
  const up = (c: string, at: number) => cloudEvent('crm', 'subscription.upgraded', `crm-${c}`, c, T0 + at, false);
  return new Map<string, Message[]>([
    [topics.crm, [up('up-ok', 0), up('up-healed', M), up('up-fail', 2 * M), up('up-missing', 3 * M)]],
    [
      topics.billing,
      [
        webhook('invoice.updated', 'inv-ok', 'up-ok', T0 + 10 * S),
        webhook('entitlement.activated', 'ent-ok', 'up-ok', T0 + 20 * S),
        webhook('invoice.updated', 'inv-healed', 'up-healed', T0 + M + 10 * S),
        webhook('entitlement.failed', 'entf-healed', 'up-healed', T0 + M + 15 * S, { last_error: { code: 'rate_limited' } }),
        webhook('entitlement.activated', 'ent-healed', 'up-healed', T0 + M + 25 * S),
        webhook('invoice.updated', 'inv-fail', 'up-fail', T0 + 2 * M + 10 * S),
        webhook('entitlement.failed', 'entf-fail', 'up-fail', T0 + 2 * M + 15 * S, { last_error: { code: 'card_declined' } }),
        webhook('invoice.updated', 'inv-missing', 'up-missing', T0 + 3 * M + 10 * S),
        webhook('invoice.created', 'evt_a', 'bill-1', T0 + 4 * M, { account_id: 'acct-1', billing_period: '2026-11' }),
        webhook('invoice.created', 'evt_b', 'bill-2', T0 + 5 * M, { account_id: 'acct-1', billing_period: '2026-11' }),
        webhook('invoice.created', 'evt_c', 'bill-3', T0 + 4 * M, { account_id: 'acct-2', billing_period: '2026-11' }),
        webhook('invoice.created', 'evt_c', 'bill-3', T0 + 4 * M, { account_id: 'acct-2', billing_period: '2026-11' }),
      ],
    ],
    [
      topics.ticketing,
      [
        cloudEvent('ticketing', 'ticket.opened', 'tk-stuck-open', 'tk-stuck', T0, false),
        cloudEvent('ticketing', 'ticket.opened', 'tk-ok-open', 'tk-ok', T0, false),
        cloudEvent('ticketing', 'ticket.updated', 'tk-ok-upd', 'tk-ok', T0 + 30 * M, false),
        cloudEvent('ticketing', 'ticket.resolved', 'tk-ok-res', 'tk-ok', T0 + H, false),
      ],
    ],
  ]);
}

/** The detectors that see the scenario's problems (YAML appended to the scenario config). */
export const SCENARIO_DETECTORS = `
detectors:
  duplicateEffects:
    - name: duplicate-invoice
      owner: billing-platform
      severity: critical
      match: { source: billing, type: invoice.created }
      businessKey: [account_id, billing_period]
      window: 35d
  stuck:
    - name: stuck-ticket
      owner: support-ops
      start: { source: ticketing, type: ticket.opened }
      progress: [{ source: ticketing, type: ticket.updated }]
      end: { source: ticketing, type: ticket.resolved }
      after: 4h
  partialFailures:
    - { name: charged-not-entitled, workflow: plan-upgrade, irreversible: [invoice-updated] }
  missedDeadlines:
    - { name: upgrade-late, workflow: plan-upgrade }
alerting: { keepFiringFor: 0s }
`;

/** The alerts that scenario must raise, as "detector correlation state". */
export const SCENARIO_ALERTS = [
  'charged-not-entitled up-fail firing',
  'duplicate-invoice bill-2 firing',
  'stuck-ticket tk-stuck firing',
  'upgrade-late up-fail firing',
  'upgrade-late up-missing firing',
];
