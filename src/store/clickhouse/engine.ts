import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { ClickHouseLogLevel, createClient, parseError, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import type { createChdbConnection } from 'chdb/connection';
import { EmbeddedStoreError } from './embedded-store-error.ts';

/** Which ClickHouse the store talks to: a server over HTTP, or the one inside this process. */
export type ClickHouseEngine =
  | { kind: 'clickhouse'; url: string; username: string; password: string; requestTimeout: number; cluster?: string | undefined }
  | { kind: 'embedded'; path: string };

/**
 * Settings that make both engines answer alike, so no query has to know which one it runs on.
 * 18.16 quotes 64-bit integers in JSON output and 26.x by default does not; the row readers
 * take either, and pinning one form keeps what a test or a caller sees the same.
 */
const SAME_ON_BOTH: ClickHouseSettings = {
  output_format_json_quote_64bit_integers: 1,
};

/**
 * Settings for a store on a cluster (`store.clickhouse.cluster`), where every table named in a
 * query is a Distributed table over replicated local tables:
 * - inserts are synchronous: the Distributed table hands each shard its rows (one replica per
 *   shard, internal_replication) before the insert is acknowledged, so what the pipeline commits
 *   to Kafka is on a shard, not queued on the entry node's disk, and reads see it at once;
 * - a client reads a remote shard from the same replica it writes it to: the first live one
 *   in remote_servers order, not a random one; the entry node's own shard is written and read
 *   locally on 18.16 (prefer_localhost_replica, the default: its sync insert writes a local
 *   shard locally whatever the setting, so reads must too). A write is read back at once from
 *   the replica that took it; the other replica follows through ZooKeeper and takes over;
 * - a subquery of IN over a Distributed table reads the local table on each shard, which is
 *   exact because the tables it joins (slo_outcomes, slo_run_outcomes) are sharded alike.
 */
export const CLUSTER_SETTINGS: ClickHouseSettings = {
  insert_distributed_sync: 1,
  load_balancing: 'in_order',
  distributed_product_mode: 'local',
};

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

/**
 * Rows per INSERT statement. The server streams a body of any size. The embedded engine is
 * handed each statement's body as one Buffer (see RawInsert), so bounded statements keep the
 * memory of a large flush flat there.
 */
export function rowsPerInsert(engine: ClickHouseEngine['kind']): number {
  return engine === 'embedded' ? 20_000 : Number.POSITIVE_INFINITY;
}

/**
 * An insert whose body is handed to the embedded engine as bytes, without a copy: chdb's
 * `Connection.insert` would read the body into a string and parse it as part of the query text.
 * chdb takes text formats only here (no RowBinary), so the body is JSON lines.
 */
export type RawInsert = (table: string, columns: string | undefined, body: Buffer, format: JsonFormat) => Promise<void>;

/** The JSON line formats rows are written in: objects by column name, or values in the column list's order. */
export type JsonFormat = 'JSONEachRow' | 'JSONCompactEachRow';

/** A client, and for the embedded engine its raw insert. */
export interface EngineClient {
  client: ClickHouseClient;
  rawInsert?: RawInsert;
}

interface ChdbRawInsertParams {
  table: string;
  values: Buffer;
  format: JsonFormat;
  columns?: readonly string[];
}
interface ChdbExtension {
  rawInsert(params: ChdbRawInsertParams): Promise<unknown>;
}

/** Only the embedded engine loads chdb (a 500 MB native library): a server store never pays for it. */
function chdbConnection(): typeof createChdbConnection {
  const require = createRequire(import.meta.url);
  return (require('chdb/connection') as { createChdbConnection: typeof createChdbConnection }).createChdbConnection;
}

export function createEngineClient(engine: ClickHouseEngine): EngineClient {
  // Failures reach our own logs once per kind, through the pipeline; the client stays quiet.
  const common = { log: { level: ClickHouseLogLevel.OFF }, clickhouse_settings: SAME_ON_BOTH };
  if (engine.kind === 'embedded') {
    // chdb binds one data directory per process; two paths naming one directory must look alike.
    const path = resolve(engine.path);
    mkdirSync(path, { recursive: true });
    // chdb types its connection with @clickhouse/client-common's declarations, which the client
    // bundles its own copy of: the same interface, two declarations, hence the cast.
    let connection: ClientConnection;
    try {
      connection = chdbConnection()({ path }) as unknown as ClientConnection;
    } catch (error) {
      throw new EmbeddedStoreError(path, error);
    }
    const chdb = (connection as unknown as { chdb: ChdbExtension }).chdb;
    const rawInsert: RawInsert = async (table, columns, body, format) => {
      try {
        const names = columns ? columns.split(',').map((c) => c.trim()) : undefined;
        await chdb.rawInsert({ table, values: body, format, ...(names ? { columns: names } : {}) });
      } catch (error) {
        // As a ClickHouseError with its code, like every other store error: bad rows are not retried.
        throw parseError(error instanceof Error ? error.message : String(error));
      }
    };
    return { client: createClient({ ...common, connection }), rawInsert };
  }
  const client = createClient({
    ...common,
    clickhouse_settings: engine.cluster === undefined ? SAME_ON_BOTH : { ...SAME_ON_BOTH, ...CLUSTER_SETTINGS },
    url: engine.url,
    username: engine.username,
    password: engine.password,
    request_timeout: engine.requestTimeout,
    compression: { request: false, response: false },
    max_open_connections: 8,
  });
  return { client };
}

/**
 * Closes a client and, for the embedded engine, waits until chdb has really let go of the
 * data directory: its close returns while an aborted or timed-out query may still run, and a
 * store opened on another directory in this process would be refused until then.
 */
export async function closeEngineClient(client: ClickHouseClient, engine: ClickHouseEngine['kind']): Promise<void> {
  await client.close();
  if (engine !== 'embedded') return;
  const require = createRequire(import.meta.url);
  await (require('chdb') as { drainPending: () => Promise<void> }).drainPending();
}

/** Says where the data is, for messages to a person. */
export function describeEngine(engine: ClickHouseEngine): string {
  if (engine.kind === 'embedded') return `embedded ClickHouse in ${resolve(engine.path)}`;
  return engine.cluster === undefined ? `ClickHouse at ${engine.url}` : `ClickHouse cluster ${engine.cluster} through ${engine.url}`;
}
