import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Admin } from 'kafkajs';
import { parseConfigText } from '../../src/config/load.ts';
import { Seamwatch } from '../../src/app.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { cloudEvent, scenarioConfig, T0, type ScenarioTopics } from '../support/scenario.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, createTopics, kafka, requireServices, store, unique, waitFor } from '../support/services.ts';

/**
 * The local broker runs with auto.create.topics.enable=true and num.partitions=4
 * (deploy/local/kafka.sh), as many brokers do: a client that lets metadata requests create
 * topics would get 4-partition source topics whatever their producers use.
 */
describe('seamwatch never creates a source topic with the broker default partition count', () => {
  let admin: Admin;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    await requireServices();
    admin = kafka().admin();
    await admin.connect();
    cleanups.push(async () => admin.disconnect());
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(1).reverse()) await cleanup().catch(() => undefined);
  });

  function setUp(prefix: string, kafkaExtra = '') {
    const id = unique(prefix);
    const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
    const all = Object.values(topics);
    let text = scenarioConfig(topics, { database: id, groupId: `${id}-group`, brokers: KAFKA_BROKERS, clickhouseUrl: CLICKHOUSE_URL });
    if (kafkaExtra) text = text.replace('  sessionTimeout: 6s\n', `  sessionTimeout: 6s\n${kafkaExtra}`);
    const app = new Seamwatch({ config: parseConfigText(text, 'test'), logger: silentLogger() });
    cleanups.push(async () => {
      await app.shutdown();
      const ch = store(id);
      await ch.command(`DROP DATABASE IF EXISTS ${id}`);
      await ch.shutdown();
      await admin.deleteTopics({ topics: [...all, ...all.map((t) => `${t}.dlq`)] }).catch(() => undefined);
    });
    const partitionsOf = async (topic: string) => {
      const existing = await admin.listTopics();
      if (!existing.includes(topic)) return undefined;
      return (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.length;
    };
    return { id, topics, all, app, partitionsOf };
  }

  it('waits for a missing source topic, says so in /readyz, and consumes once its producers created it', async () => {
    const { topics, app, partitionsOf } = setUp('topicswait');
    // Everything but billing exists, with 2 partitions (the broker would make 4).
    await createTopics(admin, [topics.crm, topics.ticketing], 2);
    let started = false;
    const starting = app.start().then(() => (started = true));
    const readyz = async () => (await (await fetch(`http://127.0.0.1:${app.http.port}/readyz`)).json()) as { status: string; missingTopics?: string[]; hint?: string };
    await waitFor('/readyz to name the missing topic', async () => app.http.port > 0 && JSON.stringify((await readyz().catch(() => ({ missingTopics: [] }))).missingTopics) === JSON.stringify([topics.billing]));
    const body = await readyz();
    expect(body.status).toBe('not ready');
    expect(body.hint).toMatch(/kafka\.createTopics\.partitions/);
    // Seamwatch's metadata requests did not create it meanwhile.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await partitionsOf(topics.billing)).toBeUndefined();
    expect(started).toBe(false);

    await createTopics(admin, [topics.billing], 2);
    await starting;
    expect(await partitionsOf(topics.billing)).toBe(2);
    // Its dead-letter topic is seamwatch's own: created with its source's partition count.
    expect(await partitionsOf(`${topics.billing}.dlq`)).toBe(2);
    await waitFor('ready', async () => (await readyz()).status === 'ready');
    expect((await readyz()).missingTopics).toBeUndefined();

    const producer = kafka().producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({ topic: topics.crm, messages: [cloudEvent('crm', 'subscription.upgraded', 'evt-1', 'up-1', T0, false)] });
    await producer.disconnect();
    await waitFor('the event to be stored', async () => {
      const trace = await fetch(`http://127.0.0.1:${app.http.port}/api/v1/traces/up-1`);
      return trace.status === 200;
    });
  });

  it('with kafka.createTopics, creates missing source and dead-letter topics with that partition count', async () => {
    const { all, app, partitionsOf } = setUp('topicscreate', '  createTopics: { partitions: 3 }\n');
    await app.start();
    for (const topic of all) {
      expect(await partitionsOf(topic)).toBe(3);
      expect(await partitionsOf(`${topic}.dlq`)).toBe(3);
    }
  });

  it('a stop while waiting for topics ends the wait', async () => {
    const { app } = setUp('topicsstop');
    const starting = app.start();
    await waitFor('the wait', async () => (app.collector?.missingTopics.length ?? 0) === 3);
    await app.shutdown();
    await starting;
    expect(app.collector?.lifecycle).toBe('stopped');
  });
});
