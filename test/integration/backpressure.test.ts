import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Producer } from 'kafkajs';
import { parseConfigText } from '../../src/config/load.ts';
import { Seamwatch } from '../../src/app.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { buildScenario, produceAll, scenarioConfig, type ScenarioTopics } from '../support/scenario.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, committedCount, createTopics, groupLag, kafka, requireServices, store, unique, waitFor } from '../support/services.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

describe('when ClickHouse is unreachable', () => {
  const id = unique('bp');
  const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  let admin: Admin;
  let producer: Producer;
  let proxy: TcpProxy;
  let app: Seamwatch;
  const ch = store(id);

  beforeAll(async () => {
    await requireServices();
    admin = kafka().admin();
    await admin.connect();
    await createTopics(admin, Object.values(topics));
    producer = kafka().producer();
    await producer.connect();
    const target = new URL(CLICKHOUSE_URL);
    proxy = new TcpProxy({ host: target.hostname, port: Number(target.port) });
    await proxy.start();
  });

  afterAll(async () => {
    await app?.shutdown();
    await proxy?.stop();
    await producer?.disconnect();
    await ch.command(`DROP DATABASE IF EXISTS ${id}`);
    await ch.shutdown();
    await admin?.deleteTopics({ topics: [...Object.values(topics), ...Object.values(topics).map((t) => `${t}.dlq`)] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('holds intake within the buffer bound, commits nothing, and catches up with nothing lost once it is back', async () => {
    const maxBufferedRows = 2_000;
    const text = scenarioConfig(topics, {
      database: id,
      groupId: `${id}-group`,
      brokers: KAFKA_BROKERS,
      clickhouseUrl: `http://127.0.0.1:${proxy.port}`,
      pipeline: `{ flushInterval: 100ms, flushRows: 500, maxBufferedRows: ${maxBufferedRows}, idleAdvanceAfter: 2s }`,
    });
    app = new Seamwatch({ config: parseConfigText(text, 'test'), logger: silentLogger() });
    await app.start();
    const scenario = buildScenario(topics, 3_000, 300, 'bp');
    const total = [...scenario.messages.values()].reduce((n, l) => n + l.length, 0);
    // A first message goes through while the store is up, so the open runs are rebuilt.
    await producer.send({ topic: topics.crm, messages: [{ key: 'warm-up', value: 'not json: goes to the DLQ' }] });
    const all = Object.values(topics);
    await waitFor('the first message to be committed', async () => (await committedCount(admin, `${id}-group`, all)) === 1);
    proxy.cut();
    await produceAll(producer, scenario.messages);

    const metric = async (name: string) => {
      const text = await (await fetch(`http://127.0.0.1:${app.http.port}/metrics`)).text();
      return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    };
    await waitFor('the consumer to stop at the buffer bound', async () => (await metric('seamwatch_backpressure_waits_total')) > 0, 30_000);
    // Give it time to misbehave: a consumer without back-pressure would read the whole stream.
    await new Promise((r) => setTimeout(r, 3_000));
    const buffered = await metric('seamwatch_buffered_rows');
    expect(buffered).toBeGreaterThan(0);
    // One fetched batch may land on top of the bound before the consumer stops.
    expect(buffered).toBeLessThan(maxBufferedRows * 3);
    expect(await committedCount(admin, `${id}-group`, all)).toBe(1);
    expect((await fetch(`http://127.0.0.1:${app.http.port}/readyz`)).status).toBe(503);
    expect(await metric('seamwatch_store_errors_total')).toBeGreaterThan(0);

    proxy.restore();
    await waitFor('the backlog to be committed', async () => (await groupLag(admin, `${id}-group`, all)) === 0, 90_000);
    await waitFor('every run', async () => (await ch.rows(`SELECT DISTINCT run_id FROM ${id}.runs`)).length === scenario.expectedRuns.size, 30_000);
    const [events] = await ch.rows<{ n: string }>(`SELECT uniqExact(source, event_id) AS n FROM ${id}.events`);
    expect(Number(events!.n)).toBe(scenario.distinctEvents);
    expect(total).toBeGreaterThan(maxBufferedRows * 3);
  });

  it('stops within its deadline while the store is down, and commits nothing it did not store', async () => {
    const id2 = unique('bpstop');
    const topics2: ScenarioTopics = { crm: `${id2}.crm`, billing: `${id2}.billing`, ticketing: `${id2}.ticketing` };
    await createTopics(admin, Object.values(topics2));
    const text = scenarioConfig(topics2, {
      database: id,
      groupId: `${id2}-group`,
      brokers: KAFKA_BROKERS,
      clickhouseUrl: `http://127.0.0.1:${proxy.port}`,
      pipeline: '{ flushInterval: 100ms, finalFlushDeadline: 1s }',
    });
    const stopping = new Seamwatch({ config: parseConfigText(text, 'test'), logger: silentLogger() });
    proxy.restore();
    await stopping.start();
    await producer.send({ topic: topics2.crm, messages: [{ key: 'warm-up', value: 'garbage' }] });
    await waitFor('the first message to be committed', async () => (await committedCount(admin, `${id2}-group`, Object.values(topics2))) === 1);
    proxy.cut();
    const scenario = buildScenario(topics2, 200, 20, 'st');
    await produceAll(producer, scenario.messages);
    await waitFor('messages read while the store is down', async () => stopping.collector!.intake.bufferedRows > 0, 30_000);
    const started = Date.now();
    await stopping.shutdown();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await committedCount(admin, `${id2}-group`, Object.values(topics2))).toBe(1);
    proxy.restore();
    await admin.deleteTopics({ topics: [...Object.values(topics2), ...Object.values(topics2).map((t) => `${t}.dlq`)] }).catch(() => undefined);
  });
});
