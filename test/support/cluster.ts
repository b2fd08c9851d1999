import { execFileSync } from 'node:child_process';
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

/** Runs deploy/local/cluster.sh (start, start-node s1r1, stop-node s1r1, …); its progress goes to stderr. */
export function clusterScript(...args: string[]): void {
  execFileSync('bash', [join(LOCAL, 'cluster.sh'), ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** A plain client on one node, with no session settings: what a person or Grafana would use. */
export function nodeClient(node: NodeName): ClickHouseClient {
  return createClient({ url: NODES[node], clickhouse_settings: { output_format_json_quote_64bit_integers: 1 } });
}

export async function nodeRows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  return (await client.query({ query, format: 'JSONEachRow' })).json<T>();
}
