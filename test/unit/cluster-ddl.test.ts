import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/clickhouse/migrations.ts';
import { clusterSchemaScript, clusterStatements, orderByColumns, shardingKey } from '../../src/store/clickhouse/cluster-ddl.ts';
import { storeSchema } from '../../src/store/config.ts';

const DB = 'sw';
const statements = MIGRATIONS.flatMap((m) => m.statements(DB));
const creates = statements.filter((s) => /^\s*CREATE TABLE/.test(s));
const tableOf = (s: string) => /CREATE TABLE IF NOT EXISTS `?\w+`?\.`?(\w+)`?/.exec(s)![1]!;

describe('cluster DDL from the migrations', () => {
  it('gives every migration statement a cluster form (a new table or ALTER included)', () => {
    for (const statement of statements) expect(() => clusterStatements(statement, 'c1')).not.toThrow();
  });

  it('turns each table into a replicated local table and a Distributed table of the same name over it', () => {
    const [local, distributed] = clusterStatements(creates.find((s) => tableOf(s) === 'runs')!, 'c1');
    expect(local).toMatch(/^CREATE TABLE IF NOT EXISTS `sw`\.`runs_local` ON CLUSTER `c1` \(/);
    expect(local).toContain("ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/sw/runs', '{replica}', version)");
    expect(local).toMatch(/PARTITION BY toYYYYMM\(toDateTime\(intDiv\(started_at_ms, 1000\), 'UTC'\)\)\s+ORDER BY \(workflow, correlation_id\)$/);
    expect(local).toContain("started_at DateTime('UTC') MATERIALIZED");
    expect(distributed).toMatch(/^CREATE TABLE IF NOT EXISTS `sw`\.`runs` ON CLUSTER `c1` \(/);
    expect(distributed).toContain("started_at DateTime('UTC') ALIAS toDateTime(intDiv(started_at_ms, 1000), 'UTC')");
    expect(distributed).not.toContain('MATERIALIZED');
    expect(distributed).toMatch(/ENGINE = Distributed\(`c1`, `sw`, `runs_local`, cityHash64\(correlation_id\)\)$/);
  });

  it('keeps a ReplacingMergeTree without a version column without one', () => {
    const [local] = clusterStatements(creates.find((s) => tableOf(s) === 'events')!, 'c1');
    expect(local).toContain("ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/sw/events', '{replica}')\n");
  });

  it('shards every table of a run by correlation ID, and the rest by their whole replacing key', () => {
    const keys = Object.fromEntries(creates.map((s) => [tableOf(s), /Distributed\([^,]+, [^,]+, [^,]+, (.*)\)$/.exec(clusterStatements(s, 'c1')[1]!)![1]]));
    expect(keys).toEqual({
      events: 'cityHash64(correlation_id)',
      runs: 'cityHash64(correlation_id)',
      spans: 'cityHash64(correlation_id)',
      slo_outcomes: 'cityHash64(correlation_id)',
      slo_run_outcomes: 'cityHash64(correlation_id)',
      dead_letters: 'cityHash64(topic, partition, offset)',
      slo_minutes: 'cityHash64(slo, minute)',
      state_documents: 'cityHash64(key)',
      alert_changes: 'cityHash64(fingerprint)',
      notifications: 'cityHash64(receiver, fingerprint, state, sent_at_ms)',
      slo_definitions: 'cityHash64(slo)',
      report_claims: 'cityHash64(key, round, instance, state)',
      redeliveries: 'cityHash64(correlation_id)',
      paging_pauses: 'cityHash64(scope, name)',
      control_audit: 'cityHash64(id)',
    });
  });

  it('shards a table it has never seen by its sorting key, so FINAL stays exact per shard', () => {
    const audit = `CREATE TABLE IF NOT EXISTS \`sw\`.control_audit (
      at_ms UInt64, at DateTime('UTC') MATERIALIZED toDateTime(intDiv(at_ms, 1000), 'UTC'), who String, action String
    ) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(toDateTime(intDiv(at_ms, 1000), 'UTC')) ORDER BY (at_ms, who, action)`;
    const [local, distributed] = clusterStatements(audit, 'c1');
    expect(local).toContain("ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/sw/control_audit', '{replica}')");
    expect(distributed).toContain('Distributed(`c1`, `sw`, `control_audit_local`, cityHash64(at_ms, who, action))');
    expect(shardingKey('anything', orderByColumns('ORDER BY key'))).toBe('cityHash64(key)');
  });

  it('runs ALTER on the local and the Distributed table, and data steps once through the Distributed tables', () => {
    expect(clusterStatements('ALTER TABLE `sw`.runs ADD COLUMN IF NOT EXISTS note String', 'c1')).toEqual([
      'ALTER TABLE `sw`.`runs_local` ON CLUSTER `c1` ADD COLUMN IF NOT EXISTS note String',
      'ALTER TABLE `sw`.runs ON CLUSTER `c1` ADD COLUMN IF NOT EXISTS note String',
    ]);
    const insert = statements.find((s) => /^\s*INSERT INTO/.test(s))!;
    expect(clusterStatements(insert, 'c1')).toEqual([insert]);
  });

  it('refuses a statement it has no cluster form for, instead of running it on one node', () => {
    expect(() => clusterStatements('CREATE VIEW `sw`.v AS SELECT 1', 'c1')).toThrow('no cluster form for this migration statement');
    expect(() => clusterStatements('CREATE TABLE IF NOT EXISTS `sw`.t (a UInt8) ENGINE = Memory', 'c1')).toThrow('no cluster form');
  });

  it('deploy/clickhouse/schema.sql is what `npm run cluster-ddl` writes now', () => {
    const file = readFileSync(join(import.meta.dirname, '../../deploy/clickhouse/schema.sql'), 'utf8');
    expect(file).toBe(clusterSchemaScript(MIGRATIONS, 'seamwatch', 'seamwatch'));
  });
});

describe('store.clickhouse.cluster', () => {
  it('is passed on to the server store', () => {
    const store = storeSchema.parse({ clickhouse: { url: 'http://ch:8123', cluster: 'prod_2x2' } });
    expect(store).toMatchObject({ kind: 'clickhouse', clickhouse: { cluster: 'prod_2x2' } });
  });

  it('must be a plain identifier', () => {
    const result = storeSchema.safeParse({ clickhouse: { url: 'http://ch:8123', cluster: 'prod cluster' } });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(['clickhouse.cluster: must be a plain identifier']);
  });
});
