import { ident } from './sql.ts';

/**
 * The single-node migrations, translated for a replicated, sharded ClickHouse cluster
 * (`store.clickhouse.cluster`). Generic over the statements, so a migration is written once:
 *
 * - `CREATE TABLE db.t (...) ENGINE = ReplacingMergeTree(v) ...` becomes, ON CLUSTER, a local
 *   table `db.t_local` with `ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/t',
 *   '{replica}', v)` on every node, and `db.t` as a `Distributed` table over it. Queries and
 *   inserts keep naming `db.t`, so no query changes, and Grafana reads the same names.
 * - `ALTER TABLE db.t ...` runs ON CLUSTER on both the local and the Distributed table.
 * - `INSERT INTO db.t SELECT ...` (a data step) runs once, through the Distributed tables.
 * Anything else is refused, so a new kind of statement cannot silently run on one node only.
 *
 * The Distributed table's copy of a `MATERIALIZED` column is an `ALIAS` of the same
 * expression: ClickHouse 18.16 refuses an insert into a Distributed table that has
 * materialized columns ("Cannot insert column ..., because it is MATERIALIZED column"), and an
 * alias is computed from the stored column when read, which is the same value.
 */

/** Where a replicated table's parts are coordinated in ZooKeeper; `{shard}` is the node's macro. */
export const zooKeeperPath = (db: string, table: string, shard = '{shard}') => `/clickhouse/tables/${shard}/${db}/${table}`;

/** The suffix of the replicated table under each Distributed table. */
export const LOCAL_SUFFIX = '_local';

/**
 * How each table is sharded. Rows that a query merges (FINAL, argMax, LIMIT 1 BY, the
 * recount's `IN` over slo_outcomes) must sit on one shard: `FINAL` is applied per shard,
 * and the recount's subquery reads the local table (distributed_product_mode = 'local').
 *
 * - Everything of one workflow run (events, runs, spans, SLO outcomes by run, redeliveries) by its
 *   correlation ID, so a run is whole on one shard and the recount's IN finds its rows there.
 * - alert_changes by fingerprint: the changes of one alert are compared with each other.
 * - Any other table (a new one included) by a hash of its whole sorting key, which is the key
 *   ReplacingMergeTree replaces on: every version of a row lands on the same shard, so FINAL
 *   and LIMIT 1 BY key stay exact (state_documents by key, slo_minutes by SLO and minute,
 *   dead_letters by topic/partition/offset, notifications, slo_definitions, report_claims,
 *   paging_pauses by scope and name, control_audit by id).
 */
const SHARD_BY_CORRELATION = new Set(['events', 'runs', 'spans', 'slo_outcomes', 'slo_run_outcomes', 'redeliveries']);
const SHARD_BY: Record<string, string> = { alert_changes: 'cityHash64(fingerprint)' };

export function shardingKey(table: string, orderBy: readonly string[]): string {
  if (SHARD_BY_CORRELATION.has(table)) return 'cityHash64(correlation_id)';
  return SHARD_BY[table] ?? `cityHash64(${orderBy.join(', ')})`;
}

const CREATE = /^\s*CREATE TABLE IF NOT EXISTS (`?\w+`?)\.(`?\w+`?)\s*\(([\s\S]*)\)\s*ENGINE = (\w*MergeTree)\(([^)]*)\)([\s\S]*)$/;
const ALTER = /^\s*ALTER TABLE (`?\w+`?)\.(`?\w+`?)\s+([\s\S]*)$/;
const INSERT = /^\s*INSERT INTO /;
const ORDER_BY = /ORDER BY\s+(\([^)]*\)|\w+)\s*$/;

const bare = (name: string) => name.replace(/`/g, '');

/** The columns of a sorting key: `(a, b)` or `a`. */
export function orderByColumns(tail: string): string[] {
  const match = ORDER_BY.exec(tail.trim());
  if (!match) throw new Error(`no ORDER BY at the end of: ${tail.trim()}`);
  return match[1]!.replace(/^\(|\)$/g, '').split(',').map((c) => c.trim()).filter((c) => c.length > 0);
}

/** The statements that do on a cluster what `statement` does on one node. */
export function clusterStatements(statement: string, cluster: string): string[] {
  const on = `ON CLUSTER ${ident(cluster)}`;
  const create = CREATE.exec(statement);
  if (create) {
    const [, dbName, tableName, columns, engine, args, tail] = create as unknown as string[];
    const db = bare(dbName!);
    const table = bare(tableName!);
    const local = `${table}${LOCAL_SUFFIX}`;
    const replicatedArgs = [`'${zooKeeperPath(db, table)}'`, "'{replica}'", ...(args!.trim() ? [args!.trim()] : [])].join(', ');
    const distributedColumns = columns!.replace(/\bMATERIALIZED\b/g, 'ALIAS');
    return [
      `CREATE TABLE IF NOT EXISTS ${ident(db)}.${ident(local)} ${on} (${columns}) ENGINE = Replicated${engine}(${replicatedArgs})${tail}`,
      `CREATE TABLE IF NOT EXISTS ${ident(db)}.${ident(table)} ${on} (${distributedColumns}) ENGINE = Distributed(${ident(cluster)}, ${ident(db)}, ${ident(local)}, ${shardingKey(table, orderByColumns(tail!))})`,
    ];
  }
  const alter = ALTER.exec(statement);
  if (alter) {
    const [, db, table, rest] = alter as unknown as string[];
    return [`ALTER TABLE ${db}.${ident(`${bare(table!)}${LOCAL_SUFFIX}`)} ${on} ${rest}`, `ALTER TABLE ${db}.${table} ${on} ${rest}`];
  }
  if (INSERT.test(statement)) return [statement];
  throw new Error(`no cluster form for this migration statement (add one in cluster-ddl.ts): ${statement.trim().slice(0, 80)}`);
}

/** The database, on every node. */
export function clusterDatabase(db: string, cluster: string): string {
  return `CREATE DATABASE IF NOT EXISTS ${ident(db)} ON CLUSTER ${ident(cluster)}`;
}

/**
 * The migrations' own bookkeeping: one replicated table with a replica on every node (the
 * path names no shard), so whichever node a seamwatch instance talks to knows what is applied.
 */
export function clusterMigrationTable(db: string, cluster: string): string {
  return `CREATE TABLE IF NOT EXISTS ${ident(db)}.schema_migrations ON CLUSTER ${ident(cluster)} (
    version UInt32,
    name String,
    applied_at DateTime('UTC')
  ) ENGINE = ReplicatedReplacingMergeTree('${zooKeeperPath(db, 'schema_migrations', 'all')}', '{replica}')
  ORDER BY version`;
}

/**
 * The whole cluster schema as one SQL script (deploy/clickhouse/schema.sql), for a DBA who
 * creates the tables by hand: the statements seamwatch itself runs at start, in order, and the
 * rows that tell it they are applied.
 */
export function clusterSchemaScript(migrations: readonly { version: number; name: string; statements: (db: string) => string[] }[], db: string, cluster: string): string {
  const out = [
    `-- Generated by \`npm run cluster-ddl\` from src/store/clickhouse/migrations.ts; do not edit.`,
    `-- Database ${db} on cluster ${cluster}: what seamwatch runs at start with store.clickhouse.cluster: ${cluster}.`,
    '',
    `${clusterDatabase(db, cluster)};`,
    '',
    `${clusterMigrationTable(db, cluster)};`,
  ];
  for (const migration of migrations) {
    out.push('', `-- migration ${migration.version}: ${migration.name}`);
    for (const statement of migration.statements(db)) {
      for (const query of clusterStatements(statement, cluster)) out.push('', `${dedent(query)};`);
    }
  }
  const applied = migrations.map((m) => `(${m.version}, '${m.name.replace(/'/g, "\\'")}', now())`).join(',\n  ');
  out.push('', '-- Recorded as applied, so seamwatch does not run them again.', `INSERT INTO ${ident(db)}.schema_migrations (version, name, applied_at) VALUES\n  ${applied};`, '');
  return out.join('\n');
}

/** Statements are written indented inside template literals; the script reads better flush left. */
function dedent(sql: string): string {
  const lines = sql.split('\n');
  const indents = lines.slice(1).filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length);
  const cut = Math.max(0, Math.min(...indents) - 2);
  return [lines[0], ...lines.slice(1).map((l) => l.slice(Math.min(cut, /^ */.exec(l)![0].length)))].join('\n');
}
