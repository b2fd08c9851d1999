import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';

/**
 * The local ClickHouse cluster (deploy/local/cluster.sh): ZooKeeper and four 18.16 servers,
 * two shards of two replicas, in the cluster "seamwatch". The cluster tests start it themselves
 * (idempotent, quick when it runs), so `npm test` needs no extra step and the rest of the
 * suite does not pay for four more servers.
 */
export const CLUSTER_NAME = process.env['SEAMWATCH_CLUSTER_NAME'] ?? 'seamwatch';
export const NODES = {
  s1r1: 'http://127.0.0.1:18211',
  s1r2: 'http://127.0.0.1:18212',
  s2r1: 'http://127.0.0.1:18221',
  s2r2: 'http://127.0.0.1:18222',
} as const;
export type NodeName = keyof typeof NODES;
export const SHARDS: readonly (readonly [NodeName, NodeName])[] = [
  ['s1r1', 's1r2'],
  ['s2r1', 's2r2'],
];
/** seamwatch's entry node: a replica of shard 2, so that shard 1 can lose a replica under it. */
export const ENTRY_URL = process.env['SEAMWATCH_CLUSTER_URL'] ?? NODES.s2r2;

const LOCAL = join(import.meta.dirname, '..', '..', 'deploy', 'local');

/**
 * Runs deploy/local/cluster.sh (start, start-node s1r1, stop-node s1r1, …). Asynchronously:
 * seamwatch runs in this process and must keep writing while a node stops.
 */
export async function clusterScript(...args: string[]): Promise<void> {
  const { stderr } = await promisify(execFile)('bash', [join(LOCAL, 'cluster.sh'), ...args]);
  if (stderr.trim()) process.stderr.write(stderr);
}

/** True when the node answers its HTTP ping. */
export async function nodeUp(node: NodeName): Promise<boolean> {
  return fetch(`${NODES[node]}/ping`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
}

/** A plain client on one node, with no session settings: what a person or Grafana would use. */
export function nodeClient(node: NodeName): ClickHouseClient {
  return createClient({ url: NODES[node], clickhouse_settings: { output_format_json_quote_64bit_integers: 1 } });
}

export async function nodeRows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  return (await client.query({ query, format: 'JSONEachRow' })).json<T>();
}

/** Tables of one run's rows, with the columns that make a stored row unique. */
export const RUN_TABLES = {
  events: 'correlation_id, source, event_id',
  runs: 'correlation_id, run_id, version',
  spans: 'correlation_id, run_id, step, version',
  slo_run_outcomes: 'correlation_id, slo, run_id, version',
} as const;

export interface ReplicaDigest {
  rows: number;
  distinct: number;
  /** Sum of the rows' key hashes: two replicas with the same rows have the same sum. */
  hash: string;
}

/** What one replica holds of a run table, in its local (replicated) table. */
export async function replicaDigest(client: ClickHouseClient, database: string, table: keyof typeof RUN_TABLES): Promise<ReplicaDigest> {
  const key = RUN_TABLES[table];
  const [row] = await nodeRows<{ n: string; distinct: string; hash: string }>(
    client,
    `SELECT count() AS n, uniqExact(${key}) AS distinct, toString(sum(cityHash64(${key}))) AS hash FROM ${database}.${table}_local`,
  );
  return { rows: Number(row!.n), distinct: Number(row!.distinct), hash: row!.hash };
}
