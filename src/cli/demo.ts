import '../collectors/kafka/request-queue-fix.ts';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import type { SeamwatchConfig } from '../config/schema.ts';
import { httpTransport } from './demo-http.ts';
import type { DemoSource, DemoTransport, Message, Pending } from './demo-transport.ts';

/**
 * `seamwatch demo`: plays a small live business into the configured topics so that a new user
 * sees runs, spans, SLOs and burn rates move: CRM plan upgrades (CloudEvents), billing webhooks
 * (the provider's own JSON, mapped by the config), ticketing. Some upgrades sync late, some fail
 * and are compensated, some webhooks are redelivered, one message in a thousand is garbage.
 * It needs the example config's sources (crm, billing, ticketing).
 */
export interface DemoOptions {
  ratePerSecond: number;
  durationMs: number;
  /** Share of upgrades whose entitlement arrives after the 5-minute SLO threshold. */
  lateShare: number;
  print: (line: string) => void;
  /** Post to the HTTP intake instead of producing to Kafka. */
  http?: boolean;
}

function kafkaTransport(config: SeamwatchConfig): DemoTransport {
  const topicOf = (name: DemoSource) => {
    const source = config.sources.find((s) => s.name === name && s.transport === 'kafka');
    if (!source) throw new Error(`the demo needs a Kafka source named "${name}" in the config (see config/seamwatch.yaml; for HTTP sources use --http)`);
    return source.topic;
  };
  const topics = { crm: topicOf('crm'), billing: topicOf('billing'), ticketing: topicOf('ticketing') };
  if (!config.kafka) throw new Error('the demo plays through Kafka and the config has no kafka: section (try seamwatch demo --http)');
  const kafka = new Kafka({ clientId: 'seamwatch-demo', brokers: config.kafka.brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const connected = producer.connect();
  return {
    async send(due) {
      await connected;
      const byTopic = new Map<string, Message[]>();
      for (const p of due) byTopic.set(topics[p.topic], [...(byTopic.get(topics[p.topic]) ?? []), p.message]);
      await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
      return [];
    },
    close: () => producer.disconnect(),
  };
}

export async function runDemo(config: SeamwatchConfig, options: DemoOptions, signal: AbortSignal): Promise<number> {
  const transport = options.http ? httpTransport(config, options.print) : kafkaTransport(config);
  const topics = { crm: 'crm', billing: 'billing', ticketing: 'ticketing' } as const;
  const queue: Pending[] = [];
  const run = Date.now().toString(36);
  let n = 0;
  let sent = 0;
  const started = Date.now();
  const ce = (source: string, type: string, id: string, c: string, time: number, data: object = {}): Message => ({
    key: c,
    value: JSON.stringify({ specversion: '1.0', id, source, type, time: new Date(time).toISOString(), correlationid: c, datacontenttype: 'application/json', data }),
  });
  const webhook = (type: string, id: string, c: string, time: number, customer: string, error?: string): Message => ({
    key: c,
    value: JSON.stringify({
      id,
      object: 'event',
      type,
      created: Math.floor(time / 1000),
      data: { object: { customer, metadata: { correlation_id: c }, ...(error ? { last_error: { code: error, message: 'card declined' } } : {}) } },
    }),
  });
  const schedule = (at: number, topic: DemoSource, message: Message) => queue.push({ at, topic, message });

  try {
    while (!signal.aborted && Date.now() - started < options.durationMs) {
      const now = Date.now();
      const perTick = Math.max(1, Math.round(options.ratePerSecond / 5));
      for (let i = 0; i < perTick; i++, n++) {
        const c = `demo-${run}-${n}`;
        const customer = `cus_${(n * 7919) % 5000}`;
        const roll = (n * 2654435761) % 1000;
        schedule(now, topics.crm, ce('crm', 'subscription.upgraded', `crm-${c}`, c, now, { customer, plan: 'pro' }));
        schedule(now + 2_000, topics.billing, webhook('invoice.updated', `evt_inv_${c}`, c, now + 2_000, customer));
        if (roll < 10) {
          schedule(now + 3_000, topics.billing, webhook('entitlement.failed', `evt_entf_${c}`, c, now + 3_000, customer, 'card_declined'));
          schedule(now + 20_000, topics.crm, ce('crm', 'subscription.upgrade_reverted', `crm-rev-${c}`, c, now + 20_000));
        } else {
          const late = roll < 10 + options.lateShare * 1000;
          const at = now + (late ? 6 * 60_000 : 4_000);
          if (roll % 17 === 0) schedule(now + 3_000, topics.billing, webhook('entitlement.failed', `evt_429_${c}`, c, now + 3_000, customer, 'rate_limited'));
          schedule(at, topics.billing, webhook('entitlement.activated', `evt_ent_${c}`, c, at, customer));
          if (roll % 5 === 0) schedule(at + 1_000, topics.billing, webhook('entitlement.activated', `evt_ent_${c}`, c, at, customer));
        }
        if (roll % 3 === 0) schedule(now + 5_000, topics.ticketing, ce('ticketing', 'ticket.tagged', `tkt-tag-${c}`, c, now + 5_000));
        if (roll % 10 === 0) {
          const t = `demo-${run}-t${n}`;
          schedule(now, topics.ticketing, ce('ticketing', 'ticket.opened', `tkt-open-${t}`, t, now));
          schedule(now + 30_000, topics.ticketing, ce('ticketing', 'ticket.triaged', `tkt-tri-${t}`, t, now + 30_000));
          schedule(now + 90_000, topics.ticketing, ce('ticketing', 'ticket.resolved', `tkt-res-${t}`, t, now + 90_000));
        }
        if (roll === 999) schedule(now, topics.crm, { key: c, value: '{"this is": not json' });
      }
      const due = queue.filter((p) => p.at <= Date.now());
      if (due.length > 0) {
        const again = await transport.send(due);
        sent += due.length - again.length;
        const keep = queue.filter((p) => !due.includes(p));
        queue.length = 0;
        queue.push(...keep, ...again);
      }
      if (n % (options.ratePerSecond * 10) < perTick) options.print(`demo: ${n} upgrades started, ${sent} messages sent`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await transport.close();
  }
  options.print(`demo: done — ${n} upgrades, ${sent} messages (${queue.length} not yet due were dropped)`);
  return sent;
}
