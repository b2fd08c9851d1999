import { ident } from './sql.ts';

/**
 * Versioned schema. Append only: a released migration is never edited. Every statement is
 * idempotent (IF NOT EXISTS) so two instances starting at once cannot trip over each other.
 * The SQL runs on ClickHouse 18.16 and current releases: no DateTime64, TTL, Map, codecs.
 * Times are UInt64 epoch ms; a MATERIALIZED DateTime beside them serves Grafana's time filters.
 * Partitions are by month of a time that never changes for a row, so a replayed row replaces.
 */
export interface Migration {
  version: number;
  name: string;
  statements: (db: string) => string[];
}

const month = (column: string) => `toYYYYMM(toDateTime(intDiv(${column}, 1000), 'UTC'))`;
const dateTime = (column: string) => `DateTime('UTC') MATERIALIZED toDateTime(intDiv(${column}, 1000), 'UTC')`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, runs, spans, dead letters',
    statements: (db) => {
      const d = ident(db);
      return [
        `CREATE TABLE IF NOT EXISTS ${d}.events (
          correlation_id String,
          source String,
          event_id String,
          type String,
          event_time_ms UInt64,
          event_time ${dateTime('event_time_ms')},
          subject String,
          data String,
          error_code String,
          error_class String,
          error_message String,
          topic String,
          partition UInt32,
          offset UInt64,
          received_at_ms UInt64
        ) ENGINE = ReplacingMergeTree()
        PARTITION BY ${month('event_time_ms')}
        ORDER BY (correlation_id, source, event_id)`,
        `CREATE TABLE IF NOT EXISTS ${d}.runs (
          workflow String,
          correlation_id String,
          run_id String,
          owner String,
          partition UInt32,
          state Enum8('open' = 1, 'completed' = 2, 'failed' = 3, 'deadline_missed' = 4, 'compensated' = 5),
          started_at_ms UInt64,
          started_at ${dateTime('started_at_ms')},
          deadline_at_ms UInt64,
          completed_at_ms UInt64,
          deadline_missed UInt8,
          missing_steps Array(String),
          failed_steps Array(String),
          event_count UInt32,
          last_event_at_ms UInt64,
          version UInt64
        ) ENGINE = ReplacingMergeTree(version)
        PARTITION BY ${month('started_at_ms')}
        ORDER BY (workflow, correlation_id)`,
        `CREATE TABLE IF NOT EXISTS ${d}.spans (
          correlation_id String,
          run_id String,
          workflow String,
          step String,
          kind Enum8('trigger' = 1, 'step' = 2, 'compensation' = 3),
          status Enum8('done' = 1, 'failed' = 2),
          source String,
          event_id String,
          run_started_at_ms UInt64,
          start_ms UInt64,
          end_ms UInt64,
          duration_ms UInt64,
          since_trigger_ms Int64,
          error_code String,
          error_class String,
          version UInt64
        ) ENGINE = ReplacingMergeTree(version)
        PARTITION BY ${month('run_started_at_ms')}
        ORDER BY (correlation_id, run_id, step)`,
        `CREATE TABLE IF NOT EXISTS ${d}.dead_letters (
          topic String,
          partition UInt32,
          offset UInt64,
          at_ms UInt64,
          at ${dateTime('at_ms')},
          reason String,
          detail String,
          message_key String,
          header_names Array(String),
          header_values Array(String),
          raw_base64 String
        ) ENGINE = ReplacingMergeTree()
        ORDER BY (topic, partition, offset)`,
      ];
    },
  },
  {
    version: 2,
    name: 'SLO outcomes per run and per minute',
    statements: (db) => {
      const d = ident(db);
      return [
        // One row per (SLO, run), at the run's due time. Replayed or re-judged runs replace.
        `CREATE TABLE IF NOT EXISTS ${d}.slo_outcomes (
          slo String,
          minute UInt32,
          run_id String,
          workflow String,
          correlation_id String,
          due_ms UInt64,
          due ${dateTime('due_ms')},
          good UInt8,
          version UInt64
        ) ENGINE = ReplacingMergeTree(version)
        PARTITION BY ${month('due_ms')}
        ORDER BY (slo, minute, run_id)`,
        // Good and total runs per SLO and minute of due time, recomputed from slo_outcomes FINAL
        // for the minutes a flush touched: exact under replays, and small enough to read whole.
        `CREATE TABLE IF NOT EXISTS ${d}.slo_minutes (
          slo String,
          minute UInt32,
          at DateTime('UTC') MATERIALIZED toDateTime(minute * 60, 'UTC'),
          good UInt64,
          total UInt64,
          version UInt64
        ) ENGINE = ReplacingMergeTree(version)
        PARTITION BY toYYYYMM(toDateTime(minute * 60, 'UTC'))
        ORDER BY (slo, minute)`,
      ];
    },
  },
  {
    version: 3,
    name: 'state documents',
    statements: (db) => [
      // Alert state and the notification log, one JSON document per key; the newest wins.
      `CREATE TABLE IF NOT EXISTS ${ident(db)}.state_documents (
        key String,
        doc String,
        version UInt64
      ) ENGINE = ReplacingMergeTree(version)
      ORDER BY key`,
    ],
  },
  {
    version: 4,
    name: 'SLO outcomes keyed by run, so a run whose due time moves counts once',
    statements: (db) => {
      const d = ident(db);
      return [
        // The verdict of each (SLO, run), newest version wins. Keyed without the minute: a trigger
        // that arrives after a later one moves the run's due time, and the run must still count
        // once. Not partitioned, because rows replace only within a partition and no time of a
        // run is fixed. `counted_minutes` remembers every minute the run was ever counted at, so
        // a write that died before its recount is repaired by the next write of the same run.
        `CREATE TABLE IF NOT EXISTS ${d}.slo_run_outcomes (
          slo String,
          run_id String,
          workflow String,
          correlation_id String,
          minute UInt32,
          due_ms UInt64,
          due ${dateTime('due_ms')},
          good UInt8,
          counted_minutes Array(UInt32),
          version UInt64
        ) ENGINE = ReplacingMergeTree(version)
        ORDER BY (slo, run_id)`,
        // slo_outcomes stays, as the index from a minute to the runs ever counted in it; the
        // verdicts it holds are copied here, newest per run. Idempotent: a second copy replaces.
        `INSERT INTO ${d}.slo_run_outcomes (slo, run_id, workflow, correlation_id, minute, due_ms, good, counted_minutes, version)
        SELECT slo, run_id, argMax(workflow, version), argMax(correlation_id, version), argMax(minute, version),
          argMax(due_ms, version), argMax(good, version), groupUniqArray(minute), max(version)
        FROM ${d}.slo_outcomes GROUP BY slo, run_id`,
        // Recount every minute ever counted from the runs' newest verdicts: a run counted twice
        // before this migration counts once, and a minute left empty says zero.
        `INSERT INTO ${d}.slo_minutes (slo, minute, good, total, version)
        SELECT slo, minute, sum(good), sum(runs), (SELECT max(version) + 1 FROM ${d}.slo_minutes) FROM (
          SELECT slo, toUInt32(newest_minute) AS minute, toUInt64(newest_good) AS good, toUInt64(1) AS runs FROM (
            SELECT slo, run_id, argMax(minute, version) AS newest_minute, argMax(good, version) AS newest_good
            FROM ${d}.slo_run_outcomes GROUP BY slo, run_id
          )
          UNION ALL
          SELECT slo, toUInt32(minute) AS minute, toUInt64(0) AS good, toUInt64(0) AS runs FROM ${d}.slo_minutes
        ) GROUP BY slo, minute`,
      ];
    },
  },
  {
    version: 5,
    name: 'alert changes, notifications and SLO definitions as rows',
    statements: (db) => {
      const d = ident(db);
      return [
        // One row per alert change. A change replayed after a restart lands on the same key.
        `CREATE TABLE IF NOT EXISTS ${d}.alert_changes (
          fingerprint String,
          kind Enum8('pending' = 1, 'firing' = 2, 'resolved' = 3, 'dropped' = 4),
          detector String,
          detector_kind String,
          team String,
          severity String,
          workflow String,
          summary String,
          correlation_id String,
          starts_at_ms UInt64,
          starts_at ${dateTime('starts_at_ms')},
          ends_at_ms UInt64,
          recorded_at_ms UInt64,
          recorded_at ${dateTime('recorded_at_ms')},
          version UInt64
        ) ENGINE = ReplacingMergeTree(version)
        PARTITION BY ${month('starts_at_ms')}
        ORDER BY (fingerprint, starts_at_ms, kind)`,
        // One row per alert in a notification a receiver accepted.
        `CREATE TABLE IF NOT EXISTS ${d}.notifications (
          receiver String,
          group_key String,
          fingerprint String,
          state Enum8('firing' = 1, 'resolved' = 2),
          sent_at_ms UInt64,
          sent_at ${dateTime('sent_at_ms')}
        ) ENGINE = ReplacingMergeTree()
        PARTITION BY ${month('sent_at_ms')}
        ORDER BY (receiver, fingerprint, state, sent_at_ms)`,
        // The SLOs as configured, newest version per name: what objectives and tiers to draw.
        `CREATE TABLE IF NOT EXISTS ${d}.slo_definitions (
          slo String,
          workflow String,
          owner String,
          objective Float64,
          window_ms UInt64,
          tier_names Array(String),
          tier_factors Array(Float64),
          tier_long_ms Array(UInt64),
          tier_short_ms Array(UInt64),
          version UInt64
        ) ENGINE = ReplacingMergeTree(version)
        ORDER BY slo`,
      ];
    },
  },
  {
    version: 6,
    name: 'report claims',
    statements: (db) => [
      // Who sends a weekly scorecard: rows are only added, never updated; the claim protocol
      // (src/scorecard/claims.ts) reads them all back. Replacing, so a retried insert is one row.
      `CREATE TABLE IF NOT EXISTS ${ident(db)}.report_claims (
        key String,
        round UInt32,
        instance String,
        state Enum8('claimed' = 1, 'sent' = 2),
        at_ms UInt64
      ) ENGINE = ReplacingMergeTree()
      ORDER BY (key, round, instance, state)`,
    ],
  },
  {
    version: 7,
    name: 'paging pauses and the control audit',
    statements: (db) => {
      const d = ident(db);
      return [
        // The kill switch per team or workflow: the newest row per scope wins on every instance.
        `CREATE TABLE IF NOT EXISTS ${d}.paging_pauses (
          scope String,
          name String,
          paused UInt8,
          until_ms UInt64,
          reason String,
          actor String,
          at_ms UInt64,
          at ${dateTime('at_ms')},
          version UInt64
        ) ENGINE = ReplacingMergeTree(version)
        ORDER BY (scope, name)`,
        // Every control action: who (the token's name), what, when, arguments, result.
        `CREATE TABLE IF NOT EXISTS ${d}.control_audit (
          id String,
          at_ms UInt64,
          at ${dateTime('at_ms')},
          actor String,
          action String,
          args String,
          outcome String,
          detail String
        ) ENGINE = ReplacingMergeTree(at_ms)
        ORDER BY id`,
      ];
    },
  },
  {
    version: 8,
    name: 'redeliveries',
    statements: (db) => [
      // Events delivered again and dropped by the stitcher, for the trace view. One row per
      // delivery: the same message read again after a restart lands on the same key.
      `CREATE TABLE IF NOT EXISTS ${ident(db)}.redeliveries (
        correlation_id String,
        source String,
        event_id String,
        topic String,
        partition UInt32,
        offset UInt64,
        received_at_ms UInt64,
        received_at ${dateTime('received_at_ms')}
      ) ENGINE = ReplacingMergeTree()
      PARTITION BY ${month('received_at_ms')}
      ORDER BY (correlation_id, source, event_id, topic, partition, offset)`,
    ],
  },
];

export function migrationTable(db: string): string {
  return `CREATE TABLE IF NOT EXISTS ${ident(db)}.schema_migrations (
    version UInt32,
    name String,
    applied_at DateTime('UTC')
  ) ENGINE = ReplacingMergeTree()
  ORDER BY version`;
}
