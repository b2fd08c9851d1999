import type { Admin } from 'kafkajs';
import type { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { SeamwatchProcess, freePort, writeConfig } from './child.ts';
import { scenarioConfig, type ScenarioTopics } from './scenario.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, childEmbeddedPath, createTopics, removeEmbeddedPath, store, storeYaml, unique, type Engine } from './services.ts';

/**
 * Fresh topics, database and consumer group for one test, and a way to start seamwatch on
 * them as real processes. `cleanup` kills the processes and drops what the test made.
 *
 * On the embedded engine the processes keep their data in a directory of their own (every
 * restart reuses it, as on one machine). Two processes must not open one chdb directory, so the
 * test reads it only through `settle()`, which stops seamwatch first (SIGTERM, a drained stop);
 * on the server `settle()` leaves seamwatch running and reads beside it.
 */
export async function processHarness(
  admin: Admin,
  prefix: string,
  options: { partitions?: number; slos?: string; pipeline?: string; upgradeDeadline?: string; kafka?: string; env?: Record<string, string>; engine?: Engine; billingFirst?: boolean } = {},
) {
  const id = unique(prefix);
  const engine = options.engine ?? 'clickhouse';
  const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  const all = Object.values(topics);
  await createTopics(admin, all, options.partitions ?? 4);
  const path = engine === 'embedded' ? childEmbeddedPath() : undefined;
  let reader: ClickHouseStore | undefined;
  const open = () => (reader ??= store(id, engine, path));
  const groupId = `${id}-group`;
  const configFile = writeConfig(
    scenarioConfig(topics, {
      database: id,
      groupId,
      brokers: KAFKA_BROKERS,
      clickhouseUrl: CLICKHOUSE_URL,
      store: storeYaml(id, engine, path),
      ...(options.slos ? { slos: options.slos } : {}),
      ...(options.pipeline ? { pipeline: options.pipeline } : {}),
      ...(options.upgradeDeadline ? { upgradeDeadline: options.upgradeDeadline } : {}),
      ...(options.kafka ? { kafka: options.kafka } : {}),
      ...(options.billingFirst ? { billingFirst: true } : {}),
    }),
  );
  const processes: SeamwatchProcess[] = [];
  const start = async () => {
    if (reader && engine === 'embedded') throw new Error('the test still holds the embedded data directory: settle() reads only after the last start');
    const p = new SeamwatchProcess(configFile, await freePort(), options.env);
    processes.push(p);
    await p.ready();
    return p;
  };
  /** The store the processes write, for the test to read: on embedded, once they have stopped. */
  const settle = async (): Promise<ClickHouseStore> => {
    if (engine === 'embedded') for (const p of processes) await p.stop();
    return open();
  };
  const cleanup = async () => {
    for (const p of processes) await p.kill();
    const ch = open();
    await ch.command(`DROP DATABASE IF EXISTS ${id}`);
    await ch.shutdown();
    removeEmbeddedPath(path);
    await admin.deleteTopics({ topics: [...all, ...all.map((t) => `${t}.dlq`)] });
  };
  return {
    id,
    topics,
    all,
    groupId,
    configFile,
    start,
    settle,
    cleanup,
    /** The server store, read beside running processes (server engine only; see `settle`). */
    get ch(): ClickHouseStore {
      if (engine === 'embedded') throw new Error('on the embedded engine, read the store through settle()');
      return open();
    },
  };
}
