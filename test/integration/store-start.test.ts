import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, createTopics, kafka, requireServices, store, unique } from '../support/services.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { SeamwatchProcess, freePort, writeConfig } from '../support/child.ts';
import { scenarioConfig } from '../support/scenario.ts';

/**
 * Starting against a ClickHouse server that is not there yet (a pod that starts before it, a
 * cluster whose first ON CLUSTER statement outlasts a request): the store asks again until the
 * schema is in, rather than exit; wrong credentials still fail at once.
 */
describe('the store starting against a ClickHouse server that fails in passing, on the real server', () => {
  const url = new URL(CLICKHOUSE_URL);
  const proxy = new TcpProxy({ host: url.hostname, port: Number(url.port) });
  const databases: string[] = [];

  beforeAll(async () => {
    await requireServices();
    await proxy.start();
  });

  afterAll(async () => {
    await proxy.stop();
    const ch = store('default');
    for (const db of databases) await ch.command(`DROP DATABASE IF EXISTS ${db}`);
    await ch.shutdown();
  });

  const through = (database: string, password = '') =>
    new ClickHouseStore({ url: `http://127.0.0.1:${proxy.port}`, database, username: 'default', password, requestTimeout: 5_000, logger: silentLogger() });

  it('waits for a server it cannot reach yet, then creates the schema', async () => {
    const database = unique('start');
    databases.push(database);
    const s = through(database);
    proxy.cut();
    const started = s.start(30_000);
    let done = false;
    void started.then(() => (done = true)).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(done).toBe(false);
    proxy.restore();
    await started;
    const [row] = await s.rows<{ n: string }>(`SELECT count() AS n FROM system.tables WHERE database = '${database}' AND name IN ('events', 'runs', 'spans')`);
    expect(Number(row!.n)).toBe(3);
    await s.shutdown();
  });

  it('gives up after its deadline when the server never comes, with the error that kept it', async () => {
    const s = through(unique('start'));
    proxy.cut();
    const t = Date.now();
    await expect(s.start(2_000)).rejects.toThrow();
    expect(Date.now() - t).toBeLessThan(10_000);
    proxy.restore();
    await s.shutdown();
  });

  it('fails at once on wrong credentials: no retrying what cannot pass', async () => {
    const s = through(unique('start'), 'not-the-password');
    const t = Date.now();
    await expect(s.start(60_000)).rejects.toThrow(/password|Authentication|authenticate/i);
    expect(Date.now() - t).toBeLessThan(5_000);
    await s.shutdown();
  });

  it('seamwatch run, started before its ClickHouse answers, waits for it and then runs: it does not exit quietly', async () => {
    // The store's first wait was the only thing holding the process open: it ended with exit code 0.
    const id = unique('startrun');
    databases.push(id);
    const topics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
    const admin = kafka().admin();
    await admin.connect();
    await createTopics(admin, Object.values(topics));
    proxy.cut();
    const url = `http://127.0.0.1:${proxy.port}`;
    const config = writeConfig(scenarioConfig(topics, { database: id, groupId: `${id}-group`, brokers: KAFKA_BROKERS, clickhouseUrl: url, store: `{ clickhouse: { url: "${url}", database: ${id} } }` }));
    const p = new SeamwatchProcess(config, await freePort());
    try {
      await new Promise((r) => setTimeout(r, 4_000));
      expect(p.child.exitCode).toBeNull();
      expect(p.output).toContain('the store does not take the schema yet; retrying');
      proxy.restore();
      await p.ready(60_000);
      expect(p.output).toContain('the store took the schema');
    } finally {
      proxy.restore();
      await p.kill();
      await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
