import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

/** Where the real services are: started by `npm test` (deploy/local/services.sh up). */
export const KAFKA_BROKERS = (process.env['SEAMWATCH_KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',');
export const CLICKHOUSE_URL = process.env['SEAMWATCH_CLICKHOUSE_URL'] ?? 'http://127.0.0.1:18123';

/** A name no other test uses: topics, groups and databases are fresh per test. */
export function unique(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export function kafka(): Kafka {
  return new Kafka({ clientId: 'seamwatch-test', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING, retry: { retries: 5 } });
}

/**
 * The two engines every store-touching test runs on: the ClickHouse server (Debian's 18.16)
 * and ClickHouse embedded in the process (chdb, 26.x). A test only one of them passes is a bug.
 */
export const ENGINES = ['clickhouse', 'embedded'] as const;
export type Engine = (typeof ENGINES)[number];
export const ENGINE_NAMES: Record<Engine, string> = { clickhouse: 'the ClickHouse server (18.16)', embedded: 'embedded ClickHouse (chdb, 26.7)' };

let embeddedDir: string | undefined;

/**
 * The embedded data directory of this test process. chdb binds one directory per process and
 * two processes must not share one, so each vitest worker (one per file) gets its own, and tests
 * in it keep apart by database. A child seamwatch process is given a directory of its own.
 */
export function embeddedPath(): string {
  embeddedDir ??= childEmbeddedPath();
  return embeddedDir;
}

/**
 * A fresh directory for an embedded store, inside the test run's folder (removed when the run
 * ends, see global-setup.ts); outside a test run (the benchmarks) the caller removes it.
 */
export function childEmbeddedPath(): string {
  return mkdtempSync(join(process.env['SEAMWATCH_TEST_CHDB_ROOT'] ?? tmpdir(), 'seamwatch-chdb-'));
}

/** Removes an embedded data directory once nothing has it open. */
export function removeEmbeddedPath(path: string | undefined): void {
  if (path !== undefined) rmSync(path, { recursive: true, force: true });
}

export function store(database: string, engine: Engine = 'clickhouse', path?: string): ClickHouseStore {
  if (engine === 'embedded') return new ClickHouseStore({ database, embeddedPath: path ?? embeddedPath(), logger: silentLogger() });
  return new ClickHouseStore({ url: CLICKHOUSE_URL, database, username: 'default', password: '', requestTimeout: 30_000, logger: silentLogger() });
}

/**
 * The environment for a child seamwatch on its config's own store: a SEAMWATCH_CLICKHOUSE_URL
 * inherited from the shell would switch an embedded config to the server (empty is ignored).
 */
export const OWN_STORE_ENV = { SEAMWATCH_CLICKHOUSE_URL: '' } as const;

/** The `store:` section of a test config for one engine. */
export function storeYaml(database: string, engine: Engine, path?: string): string {
  return engine === 'embedded'
    ? `{ kind: embedded, embedded: { path: ${JSON.stringify(path ?? embeddedPath())}, database: ${database} } }`
    : `{ kind: clickhouse, clickhouse: { url: "${CLICKHOUSE_URL}", database: ${database} } }`;
}

/** Fails loudly, never skips, when a service is missing: the test command starts them. */
export async function requireServices(): Promise<void> {
  const ch = await fetch(`${CLICKHOUSE_URL}/ping`).then((r) => r.text()).catch((e: unknown) => String(e));
  if (!ch.startsWith('Ok')) throw new Error(`ClickHouse is not answering at ${CLICKHOUSE_URL} (${ch}); run: bash deploy/local/services.sh up`);
  const admin = kafka().admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (error) {
    throw new Error(`Kafka is not answering at ${KAFKA_BROKERS.join(',')} (${String(error)}); run: bash deploy/local/services.sh up`);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Creates the topics and waits until every partition answers. On a loaded broker the metadata of a
 * new topic can lag its creation ("This server does not host this topic-partition"): that is retried
 * for a while rather than failing a whole suite's setup.
 */
export async function createTopics(admin: Admin, topics: string[], partitions = 4): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: partitions })), waitForLeaders: true });
      for (const topic of topics) {
        const offsets = await admin.fetchTopicOffsets(topic);
        if (offsets.length !== partitions) throw new Error(`${topic}: ${offsets.length} of ${partitions} partitions answer`);
      }
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Sum of (high watermark − committed offset) over the topics: 0 when the group has caught up. */
export async function groupLag(admin: Admin, groupId: string, topics: string[]): Promise<number> {
  const committed = await admin.fetchOffsets({ groupId, topics });
  let lag = 0;
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const done = committed.find((c) => c.topic === topic);
    for (const end of ends) {
      const offset = done?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
      lag += Number(end.high) - Math.max(0, Number(offset));
    }
  }
  return lag;
}

/** Messages the group has committed, summed over the topics' partitions. */
export async function committedCount(admin: Admin, groupId: string, topics: string[]): Promise<number> {
  const committed = await admin.fetchOffsets({ groupId, topics });
  return committed.flatMap((t) => t.partitions).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const started = Date.now();
  let last: unknown;
  while (Date.now() - started < timeoutMs) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
