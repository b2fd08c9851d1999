import type { Admin } from 'kafkajs';
import type { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { SeamwatchProcess, freePort, writeConfig } from './child.ts';
import { scenarioConfig, type ScenarioTopics } from './scenario.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, createTopics, store, unique } from './services.ts';

/**
 * Fresh topics, database and consumer group for one test, and a way to start seamwatch on
 * them as real processes. `cleanup` kills the processes and drops what the test made.
 */
export async function processHarness(admin: Admin, prefix: string, options: { partitions?: number; slos?: string; pipeline?: string } = {}) {
  const id = unique(prefix);
  const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  const all = Object.values(topics);
  await createTopics(admin, all, options.partitions ?? 4);
  const ch: ClickHouseStore = store(id);
  const groupId = `${id}-group`;
  const configFile = writeConfig(
    scenarioConfig(topics, { database: id, groupId, brokers: KAFKA_BROKERS, clickhouseUrl: CLICKHOUSE_URL, ...(options.slos ? { slos: options.slos } : {}), ...(options.pipeline ? { pipeline: options.pipeline } : {}) }),
  );
  const processes: SeamwatchProcess[] = [];
  const start = async () => {
    const p = new SeamwatchProcess(configFile, await freePort());
    processes.push(p);
    await p.ready();
    return p;
  };
  const cleanup = async () => {
    for (const p of processes) await p.kill();
    await ch.command(`DROP DATABASE IF EXISTS ${id}`);
    await ch.shutdown();
    await admin.deleteTopics({ topics: [...all, ...all.map((t) => `${t}.dlq`)] });
  };
  return { id, topics, all, ch, groupId, start, cleanup };
}
