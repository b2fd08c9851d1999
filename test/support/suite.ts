import { afterAll, beforeAll } from 'vitest';
import type { Engine } from './services.ts';
import type { Admin, Producer } from 'kafkajs';
import { CLICKHOUSE_URL, KAFKA_BROKERS, createTopics, kafka, requireServices, store, storeYaml, unique } from './services.ts';
import { scenarioConfig, type ScenarioTopics } from './scenario.ts';
import { Seamwatch } from '../../src/app.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import type { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';

/** A Kafka admin and producer for one suite, and what to undo after it. */
export interface KafkaSuite {
  readonly admin: Admin;
  readonly producer: Producer;
  /** Run after the suite, last added first, each whatever the others did. */
  readonly cleanups: (() => Promise<unknown>)[];
}

/**
 * Registers the hooks every integration suite on the real services needs: fail loudly when a
 * service is missing, connect an admin and a producer, and afterwards run the cleanups and
 * disconnect. Call it at the top of a describe block.
 */
export function kafkaSuite(extra: { start?: () => Promise<void>; stop?: () => Promise<void> } = {}): KafkaSuite {
  let admin: Admin | undefined;
  let producer: Producer | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    await requireServices();
    await extra.start?.();
    admin = kafka().admin();
    await admin.connect();
    producer = kafka().producer();
    await producer.connect();
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await producer?.disconnect();
    await admin?.disconnect();
    await extra.stop?.();
  });
  return {
    get admin() {
      return admin!;
    },
    get producer() {
      return producer!;
    },
    cleanups,
  };
}

/**
 * Creates the scenario's topics and a seamwatch (not started) on them with the ClickHouse server
 * store in database `id`, the config extended by `extraYaml`; the suite's cleanups stop it, drop
 * the database and delete the topics.
 */
export async function scenarioApp(suite: KafkaSuite, id: string, topics: ScenarioTopics, extraYaml = ''): Promise<{ app: Seamwatch; ch: ClickHouseStore }> {
  await createTopics(suite.admin, Object.values(topics));
  const text = scenarioConfig(topics, { database: id, groupId: `${id}-group`, brokers: KAFKA_BROKERS, clickhouseUrl: CLICKHOUSE_URL, store: storeYaml(id, 'clickhouse') }) + extraYaml;
  const app = new Seamwatch({ config: parseConfigText(text, 'test'), logger: silentLogger() });
  const ch = store(id, 'clickhouse');
  suite.cleanups.push(
    async () => {
      await ch.command(`DROP DATABASE IF EXISTS ${id}`);
      await ch.shutdown();
    },
    () => suite.admin.deleteTopics({ topics: [...Object.values(topics), ...Object.values(topics).map((t) => `${t}.dlq`)] }),
    () => app.shutdown(),
  );
  return { app, ch };
}

/**
 * A migrated store in a fresh database of its own for one describe block (on either engine),
 * dropped afterwards. Read `.ch` inside hooks and tests.
 */
export function storeSuite(prefix: string, engine: Engine): { readonly ch: ClickHouseStore; readonly database: string } {
  const database = unique(prefix);
  let ch: ClickHouseStore | undefined;
  beforeAll(async () => {
    await requireServices();
    ch = store(database, engine);
    await ch.start();
  });
  afterAll(async () => {
    await ch?.command(`DROP DATABASE IF EXISTS ${database}`);
    await ch?.shutdown();
  });
  return {
    get ch() {
      return ch!;
    },
    database,
  };
}
