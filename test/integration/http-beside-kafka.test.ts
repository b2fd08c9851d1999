import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Producer } from 'kafkajs';
import { parseConfigText } from '../../src/config/load.ts';
import { Seamwatch } from '../../src/app.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, createTopics, groupLag, kafka, requireServices, store, unique, waitFor } from '../support/services.ts';

describe('HTTP intake beside Kafka in one instance', () => {
  const id = unique('httpkafka');
  const crmTopic = `${id}.crm`;
  const ch = store(id);
  let admin: Admin;
  let producer: Producer;
  let app: Seamwatch;

  beforeAll(async () => {
    await requireServices();
    admin = kafka().admin();
    await admin.connect();
    await createTopics(admin, [crmTopic, `${crmTopic}.dlq`], 2);
    producer = kafka().producer();
    await producer.connect();
  });

  afterAll(async () => {
    await app?.shutdown();
    await producer?.disconnect();
    await ch.command(`DROP DATABASE IF EXISTS ${id}`);
    await ch.shutdown();
    await admin?.deleteTopics({ topics: [crmTopic, `${crmTopic}.dlq`] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('stitches one run from a Kafka trigger and HTTP steps, and commits only Kafka offsets', async () => {
    const text = `
sources:
  - { name: crm, topic: ${crmTopic} }
  - name: billing
    transport: http
    format: mapped
    mapping:
      id: { path: id }
      type: { path: type }
      time: { path: created, format: unix-s }
      correlationid: { path: correlation_id }
workflows:
  - name: plan-upgrade
    owner: billing-platform
    trigger: { source: crm, type: subscription.upgraded }
    steps:
      - { name: invoice-updated, source: billing, type: invoice.updated }
    deadline: 5m
kafka: { brokers: [${KAFKA_BROKERS.join(',')}], groupId: ${id}-group }
store: { clickhouse: { url: "${CLICKHOUSE_URL}", database: ${id} } }
pipeline: { flushInterval: 100ms, idleAdvanceAfter: 2s }
httpIntake: { port: 0, partition: 1000 }
http: { port: 0 }
`;
    app = new Seamwatch({ config: parseConfigText(text, 'test'), logger: silentLogger() });
    await app.start();
    await waitFor('the consumer group joined', async () => app.collector!.ready, 30_000);
    const at = Date.now() - 30_000;
    await producer.send({
      topic: crmTopic,
      messages: [
        { key: 'c-mixed', value: JSON.stringify({ specversion: '1.0', id: 'crm-mixed', source: 'crm', type: 'subscription.upgraded', correlationid: 'c-mixed', time: new Date(at).toISOString() }) },
        { key: 'junk', value: 'not json' },
      ],
    });
    const webhook = JSON.stringify({ id: 'evt_mixed', type: 'invoice.updated', created: Math.floor(at / 1000) + 5, correlation_id: 'c-mixed' });
    const res = await fetch(`http://127.0.0.1:${app.httpCollector!.port}/ingest/billing`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: webhook });
    expect(res.status).toBe(202);
    const bad = await fetch(`http://127.0.0.1:${app.httpCollector!.port}/ingest/billing`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[' });
    expect(bad.status).toBe(400);

    await waitFor('the run completed', async () => {
      const [row] = await ch.rows<{ s: string }>(`SELECT argMax(state, version) AS s FROM ${id}.runs WHERE correlation_id = 'c-mixed'`);
      return row?.s === 'completed';
    }, 30_000);
    // The Kafka offsets were committed: HTTP positions were kept out of the commit, or it would fail.
    await waitFor('the Kafka offsets committed', async () => (await groupLag(admin, `${id}-group`, [crmTopic])) === 0, 30_000);
    const letters = await ch.rows<{ topic: string; partition: number; reason: string }>(`SELECT topic, partition, reason FROM ${id}.dead_letters`);
    const http = letters.filter((l) => l.topic === 'http:billing');
    expect(letters.map((l) => [l.topic, l.reason]).sort()).toEqual([[crmTopic, 'not-json'], ['http:billing', 'not-json']].sort());
    expect(http[0]!.partition).toBe(1000);
    // The Kafka dead-letter topic got the Kafka dead letter only.
    const dlq = await admin.fetchTopicOffsets(`${crmTopic}.dlq`);
    expect(dlq.reduce((n, p) => n + Number(p.high), 0)).toBe(1);
  });
});
