import type { Message } from 'kafkajs';
import type { RunState } from '../../src/domain/records.ts';

/**
 * A realistic mixed stream across CRM (CloudEvents, structured and binary), billing (its own
 * webhook bodies, mapped) and ticketing, with what seamwatch must make of it. Deterministic.
 */

export const T0 = Date.UTC(2026, 10, 20, 9, 0, 0);
const S = 1_000;
const M = 60 * S;

export interface ScenarioTopics {
  crm: string;
  billing: string;
  ticketing: string;
}

export interface ExpectedRun {
  state: RunState;
  deadlineMissed: boolean;
}

export interface Scenario {
  /** Messages per topic, in produce order. */
  messages: Map<string, Message[]>;
  expectedRuns: Map<string, ExpectedRun>;
  /** Distinct valid events (redeliveries counted once). */
  distinctEvents: number;
  redeliveries: number;
  malformed: { topic: string; reason: string }[];
}

/**
 * The scenario's config. `billingFirst` lists the billing source (the steps) before the CRM one
 * (the triggers): kafkajs fetches topics in the order they are subscribed, so the steps' batches
 * then come before their triggers' in every fetch.
 */
export function scenarioConfig(topics: ScenarioTopics, extra: { database: string; groupId: string; brokers: string[]; clickhouseUrl: string; store?: string; httpPort?: number; pipeline?: string; slos?: string; upgradeDeadline?: string; kafka?: string; billingFirst?: boolean }): string {
  const first = `
  - { name: crm, topic: ${topics.crm} }
  - { name: ticketing, topic: ${topics.ticketing} }`;
  return `
sources:${extra.billingFirst ? '' : first}
  - name: billing
    topic: ${topics.billing}
    format: mapped
    mapping:
      id: { path: id }
      type: { path: type }
      time: { path: created, format: unix-ms }
      correlationid: { path: data.object.metadata.correlation_id }
      subject: { path: data.object.customer }
      data: { path: data.object }
      error:
        code: { path: data.object.last_error.code }${extra.billingFirst ? first : ''}
workflows:
  - name: plan-upgrade
    owner: billing-platform
    trigger: { source: crm, type: subscription.upgraded }
    steps:
      - { name: invoice-updated, source: billing, type: invoice.updated }
      - { name: entitlement-activated, source: billing, type: entitlement.activated, failOn: [entitlement.failed] }
      - { name: ticket-tagged, source: ticketing, type: ticket.tagged, required: false }
    compensation:
      - { name: upgrade-reverted, source: crm, type: subscription.upgrade_reverted }
    deadline: ${extra.upgradeDeadline ?? '5m'}
  - name: support-ticket
    owner: support-ops
    trigger: { source: ticketing, type: ticket.opened }
    steps:
      - { name: triaged, source: ticketing, type: ticket.triaged }
      - { name: resolved, source: ticketing, type: ticket.resolved }
    deadline: 4h
kafka:
  brokers: [${extra.brokers.join(', ')}]
  groupId: ${extra.groupId}
  sessionTimeout: 6s
${extra.kafka ?? ''}
store: ${extra.store ?? `{ clickhouse: { url: "${extra.clickhouseUrl}", database: ${extra.database} } }`}
pipeline: ${extra.pipeline ?? '{ flushInterval: 200ms, idleAdvanceAfter: 2s }'}
http: { port: ${extra.httpPort ?? 0} }
log: { level: warn }
${extra.slos ?? ''}
`;
}

export function cloudEvent(source: string, type: string, id: string, correlationId: string, time: number, binary: boolean, data: object = {}): Message {
  if (binary) {
    return {
      key: correlationId,
      value: JSON.stringify(data),
      headers: {
        ce_specversion: '1.0',
        ce_id: id,
        ce_source: source,
        ce_type: type,
        ce_time: new Date(time).toISOString(),
        ce_correlationid: correlationId,
        'content-type': 'application/json',
      },
    };
  }
  return {
    key: correlationId,
    value: JSON.stringify({ specversion: '1.0', id, source, type, time: new Date(time).toISOString(), correlationid: correlationId, datacontenttype: 'application/json', data }),
    headers: { 'content-type': 'application/cloudevents+json' },
  };
}

export function billingWebhook(type: string, id: string, correlationId: string, time: number, error?: string): Message {
  return {
    key: correlationId,
    value: JSON.stringify({
      id,
      object: 'event',
      type,
      created: time,
      data: { object: { customer: `cus_${correlationId}`, metadata: { correlation_id: correlationId }, ...(error ? { last_error: { code: error } } : {}) } },
    }),
  };
}

/** Kinds of plan upgrade the stream contains, in rotation. */
const UPGRADE_KINDS = ['ok', 'ok', 'late', 'missing', 'healed', 'failed', 'compensated', 'early-step', 'redelivered', 'ok'] as const;

export function buildScenario(topics: ScenarioTopics, upgrades: number, tickets: number, prefix = 'c', partitions = 4): Scenario {
  const messages = new Map<string, Message[]>([[topics.crm, []], [topics.billing, []], [topics.ticketing, []]]);
  const timed: { topic: string; time: number; message: Message }[] = [];
  const expectedRuns = new Map<string, ExpectedRun>();
  let distinctEvents = 0;
  let redeliveries = 0;
  const add = (topic: string, time: number, message: Message, distinct = true) => {
    timed.push({ topic, time, message });
    if (distinct) distinctEvents++;
    else redeliveries++;
  };

  for (let i = 0; i < upgrades; i++) {
    const kind = UPGRADE_KINDS[i % UPGRADE_KINDS.length]!;
    const c = `${prefix}-up-${i}`;
    const t = T0 + i * S;
    const trigger = cloudEvent('crm', 'subscription.upgraded', `crm-${c}`, c, t, i % 2 === 0, { plan: 'pro' });
    const invoice = billingWebhook('invoice.updated', `evt_inv_${c}`, c, t + 10 * S);
    const entitlementAt = kind === 'late' ? t + 6 * M : t + 20 * S;
    const entitlement = billingWebhook('entitlement.activated', `evt_ent_${c}`, c, entitlementAt);
    add(topics.crm, t, trigger);
    if (kind === 'early-step') add(topics.billing, t - 5 * S, billingWebhook('invoice.updated', `evt_inv_${c}`, c, t - 5 * S));
    else add(topics.billing, t + 10 * S, invoice);
    if (kind === 'healed') add(topics.billing, t + 15 * S, billingWebhook('entitlement.failed', `evt_entf_${c}`, c, t + 15 * S, 'rate_limited'));
    if (kind === 'failed' || kind === 'compensated') {
      add(topics.billing, t + 15 * S, billingWebhook('entitlement.failed', `evt_entf_${c}`, c, t + 15 * S, 'card_declined'));
    } else if (kind !== 'missing') {
      add(topics.billing, entitlementAt, entitlement);
    }
    if (kind === 'compensated') add(topics.crm, t + 40 * S, cloudEvent('crm', 'subscription.upgrade_reverted', `crm-rev-${c}`, c, t + 40 * S, false));
    if (i % 3 === 0) add(topics.ticketing, t + 30 * S, cloudEvent('ticketing', 'ticket.tagged', `tkt-tag-${c}`, c, t + 30 * S, false));
    if (kind === 'redelivered') {
      add(topics.crm, t + 1, trigger, false);
      add(topics.billing, t + 10 * S + 1, invoice, false);
    }
    const state: RunState =
      kind === 'missing' ? 'deadline_missed' : kind === 'failed' ? 'failed' : kind === 'compensated' ? 'compensated' : 'completed';
    expectedRuns.set(`plan-upgrade:${c}`, { state, deadlineMissed: kind === 'late' || kind === 'missing' || kind === 'failed' });
  }

  for (let i = 0; i < tickets; i++) {
    const c = `${prefix}-tk-${i}`;
    const t = T0 + i * 7 * S;
    add(topics.ticketing, t, cloudEvent('ticketing', 'ticket.opened', `tkt-open-${c}`, c, t, i % 2 === 1));
    add(topics.ticketing, t + 20 * M, cloudEvent('ticketing', 'ticket.triaged', `tkt-tri-${c}`, c, t + 20 * M, false));
    const stuck = i % 4 === 3;
    if (!stuck) add(topics.ticketing, t + 2 * 3_600_000, cloudEvent('ticketing', 'ticket.resolved', `tkt-res-${c}`, c, t + 2 * 3_600_000, false));
    expectedRuns.set(`support-ticket:${c}`, { state: stuck ? 'deadline_missed' : 'completed', deadlineMissed: stuck });
  }

  // Event time must pass every deadline for the verdicts to be final: a heartbeat a day later
  // on every partition, since each partition's time counts (whichever instance owns it).
  const end = T0 + Math.max(upgrades, tickets * 7) * S + 86_400_000;
  for (const [name, topic] of [['crm', topics.crm], ['ticketing', topics.ticketing], ['billing', topics.billing]] as const) {
    for (let partition = 0; partition < partitions; partition++) {
      const id = `hb-${prefix}-${name}-${partition}`;
      const message = name === 'billing' ? billingWebhook('heartbeat', id, id, end) : cloudEvent(name, 'seamwatch.heartbeat', id, id, end, false);
      add(topic, end, { ...message, partition });
    }
  }

  timed.sort((a, b) => a.time - b.time);
  for (const { topic, message } of timed) messages.get(topic)!.push(message);

  const malformed = [
    { topic: topics.crm, value: 'not json at all {', reason: 'not-json' },
    { topic: topics.crm, value: JSON.stringify({ specversion: '1.0', id: 'x1', source: 'crm', type: 'subscription.upgraded' }), reason: 'missing-field' },
    { topic: topics.crm, value: JSON.stringify({ specversion: '1.0', id: 'x2', source: 'crm', type: 't', correlationid: 'c', time: 'yesterday' }), reason: 'invalid-field' },
    { topic: topics.billing, value: JSON.stringify({ id: 'evt_x', type: 'invoice.updated', created: 1, data: {} }), reason: 'missing-field' },
    { topic: topics.ticketing, value: JSON.stringify({ hello: 'world' }), reason: 'not-cloudevent' },
  ];
  // Spread the poison through the stream rather than at its end.
  malformed.forEach((m, i) => {
    const list = messages.get(m.topic)!;
    list.splice(Math.floor((list.length * (i + 1)) / (malformed.length + 1)), 0, { key: `bad-${i}`, value: m.value });
  });
  return { messages, expectedRuns, distinctEvents, redeliveries, malformed: malformed.map(({ topic, reason }) => ({ topic, reason })) };
}

/**
 * Produces every topic's messages in proportional slices, so the topics advance together as
 * live sources would; `pauseMs` between slices stretches the stream out in time.
 */
export async function produceAll(
  producer: { sendBatch: (b: { topicMessages: { topic: string; messages: Message[] }[] }) => Promise<unknown> },
  messages: Map<string, Message[]>,
  chunk = 2_000,
  pauseMs = 0,
): Promise<void> {
  const total = [...messages.values()].reduce((n, l) => n + l.length, 0);
  const slices = Math.max(1, Math.ceil(total / chunk));
  for (let i = 0; i < slices; i++) {
    const topicMessages = [...messages].map(([topic, list]) => ({
      topic,
      messages: list.slice(Math.floor((list.length * i) / slices), Math.floor((list.length * (i + 1)) / slices)),
    }));
    await producer.sendBatch({ topicMessages: topicMessages.filter((t) => t.messages.length > 0) });
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
  }
}
