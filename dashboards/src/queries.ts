/**
 * Every panel's SQL, in one place, as the Grafana ClickHouse plugin receives it: with the
 * plugin's macros ($__timeFilter, $__fromTime, $__toTime, $__interval_s) and the dashboard's
 * template variables (${database}, ${workflow}, ${slo}, ${correlation_id}).
 *
 * The SQL runs on ClickHouse 18.16 and current releases alike: no toStartOfInterval (so no
 * $__timeInterval), no window functions, no DateTime64, no *_ms macros (they expand to
 * fromUnixTimestamp64Milli). Time buckets are intDiv(seconds, $__interval_s) * $__interval_s.
 * Tables are ReplacingMergeTree: every count reads them FINAL or LIMIT 1 BY, so a replayed row
 * counts once.
 *
 * SLO panels read slo_minutes (per SLO and minute of due time) and slo_definitions, never
 * slo_outcomes, whose key is changing.
 */

export type QueryFormat = 'table' | 'timeseries';

export interface PanelQuery {
  /** Stable id: the test and the builders find a panel's SQL by it. */
  id: string;
  format: QueryFormat;
  sql: string;
  /** The columns the panel reads (field overrides, value fields, table columns). */
  columns: string[];
}

const D = '${database}';
/** The dashboard's range as epoch seconds and minutes (the plugin expands $__fromTime to toDateTime(<s>)). */
const FROM_S = 'toUInt32($__fromTime)';
const TO_S = 'toUInt32($__toTime)';
const TO_MINUTE = `intDiv(${TO_S}, 60)`;
const msInRange = (column: string) => `${column} >= toUInt64(${FROM_S}) * 1000 AND ${column} <= toUInt64(${TO_S}) * 1000`;
/** A bucket start for a DateTime column, the width Grafana asks for. */
const bucket = (seconds: string) => `toDateTime(intDiv(${seconds}, $__interval_s) * $__interval_s)`;
const WORKFLOWS = 'workflow IN (${workflow})';

/** Each SLO's good and total runs over its own window ending at the dashboard's "to". */
const SLO_WINDOW_COUNTS = `
  SELECT slo, sum(good) AS good_runs, sum(total) AS all_runs
  FROM (
    SELECT slo, minute, good, total FROM ${D}.slo_minutes FINAL WHERE minute < ${TO_MINUTE}
  ) ANY INNER JOIN (
    SELECT slo, intDiv(window_ms, 60000) AS window_minutes FROM ${D}.slo_definitions FINAL
  ) USING slo
  WHERE minute >= ${TO_MINUTE} - window_minutes
  GROUP BY slo`;

/** SLI, error budget (runs and ratio) per SLO; the same arithmetic as src/slo/budget.ts. */
function sloStatus(where: string): string {
  return `
SELECT
  slo, workflow, owner, objective, window_ms / 86400000 AS window_days,
  all_runs AS total, all_runs - good_runs AS bad,
  if(all_runs = 0, NULL, good_runs / all_runs) AS sli,
  (1 - objective) * all_runs AS budget_runs,
  (1 - objective) * all_runs - (all_runs - good_runs) AS budget_remaining_runs,
  if(all_runs = 0, 1, 1 - (all_runs - good_runs) / ((1 - objective) * all_runs)) AS budget_remaining_ratio
FROM (
  SELECT slo, workflow, owner, objective, window_ms FROM ${D}.slo_definitions FINAL WHERE ${where}
) ANY LEFT JOIN (${SLO_WINDOW_COUNTS}
) USING slo
ORDER BY budget_remaining_ratio`;
}

const SLO_COLUMNS = ['slo', 'workflow', 'owner', 'objective', 'window_days', 'total', 'bad', 'sli', 'budget_runs', 'budget_remaining_runs', 'budget_remaining_ratio'];

/** Minutes of one SLO in the dashboard's range, looked up by the table's key. */
const sloMinutesInRange = (extraMinutes: string) => `
    SELECT minute, good AS good_runs, total AS all_runs FROM ${D}.slo_minutes FINAL
    WHERE slo = '\${slo}' AND minute >= intDiv(${FROM_S}, 60) - ${extraMinutes} AND minute < ${TO_MINUTE}`;

const ONE_SLO = "(SELECT objective FROM " + D + ".slo_definitions FINAL WHERE slo = '${slo}')";

export const SLO_QUERIES = {
  status: { id: 'slo.status', format: 'table', sql: sloStatus('1'), columns: SLO_COLUMNS },
  one: { id: 'slo.one', format: 'table', sql: sloStatus("slo = '${slo}'"), columns: SLO_COLUMNS },
  sli: {
    id: 'slo.sli',
    format: 'timeseries',
    sql: `
SELECT ${bucket('minute * 60')} AS time, sum(good_runs) / sum(all_runs) AS sli, any(${ONE_SLO}) AS objective
FROM (${sloMinutesInRange('0')})
GROUP BY time ORDER BY time`,
    columns: ['time', 'sli', 'objective'],
  },
  goodBad: {
    id: 'slo.good_bad',
    format: 'timeseries',
    sql: `
SELECT ${bucket('minute * 60')} AS time, sum(good_runs) AS good, sum(all_runs) - sum(good_runs) AS bad
FROM (${sloMinutesInRange('0')})
GROUP BY time ORDER BY time`,
    columns: ['time', 'good', 'bad'],
  },
  /**
   * Each tier's burn rate over its long window, at each bucket end, and the tier's threshold
   * beside it. A minute m counts towards the bucket ends b with m < b <= m + long window, so
   * each minute is spread over those buckets only (no window functions on 18.16).
   */
  burn: {
    id: 'slo.burn',
    format: 'timeseries',
    sql: `
SELECT toDateTime(end_minute * 60) AS time, tier, burn_rate, threshold FROM (
  SELECT end_minute, tier, any(factor) AS threshold,
    if(sum(all_runs) = 0, 0, (sum(all_runs) - sum(good_runs)) / sum(all_runs) / (1 - any(objective))) AS burn_rate
  FROM (
    SELECT tier, factor, objective, minute, good_runs, all_runs, step,
      toInt64(greatest(intDiv(minute, step) + 1, intDiv(intDiv(${FROM_S}, 60) + step - 1, step))) AS first_k,
      toInt64(least(intDiv(minute + long_minutes, step), intDiv(${TO_MINUTE}, step))) AS last_k,
      arrayJoin(arrayMap(k -> (k + first_k) * step, range(toUInt32(greatest(toInt64(0), last_k - first_k + 1))))) AS end_minute
    FROM (
      SELECT objective, tier, factor, intDiv(long_ms, 60000) AS long_minutes, greatest(1, intDiv($__interval_s, 60)) AS step
      FROM ${D}.slo_definitions FINAL
      ARRAY JOIN tier_names AS tier, tier_factors AS factor, tier_long_ms AS long_ms
      WHERE slo = '\${slo}'
    ) CROSS JOIN (${sloMinutesInRange('4320')})
  )
  GROUP BY end_minute, tier
)
ORDER BY time`,
    columns: ['time', 'tier', 'burn_rate', 'threshold'],
  },
} satisfies Record<string, PanelQuery>;

export const WORKFLOW_QUERIES = {
  runsByState: {
    id: 'workflow.runs_by_state',
    format: 'timeseries',
    sql: `
SELECT ${bucket('toUInt32(started_at)')} AS time, workflow, toString(state) AS state, count() AS runs
FROM ${D}.runs FINAL
WHERE $__timeFilter(started_at) AND ${WORKFLOWS}
GROUP BY time, workflow, state ORDER BY time`,
    columns: ['time', 'workflow', 'state', 'runs'],
  },
  latency: {
    id: 'workflow.latency',
    format: 'table',
    sql: `
SELECT workflow, count() AS completed,
  quantileExact(0.5)(completed_at_ms - started_at_ms) / 1000 AS p50_s,
  quantileExact(0.95)(completed_at_ms - started_at_ms) / 1000 AS p95_s,
  quantileExact(0.99)(completed_at_ms - started_at_ms) / 1000 AS p99_s
FROM ${D}.runs FINAL
WHERE $__timeFilter(started_at) AND ${WORKFLOWS} AND state = 'completed'
GROUP BY workflow ORDER BY workflow`,
    columns: ['workflow', 'completed', 'p50_s', 'p95_s', 'p99_s'],
  },
  stepLatency: {
    id: 'workflow.step_latency',
    format: 'table',
    sql: `
SELECT workflow, step, count() AS done,
  quantileExact(0.5)(since_trigger_ms) / 1000 AS p50_s,
  quantileExact(0.95)(since_trigger_ms) / 1000 AS p95_s,
  quantileExact(0.99)(since_trigger_ms) / 1000 AS p99_s
FROM ${D}.spans FINAL
WHERE ${msInRange('run_started_at_ms')} AND ${WORKFLOWS} AND kind = 'step' AND status = 'done'
GROUP BY workflow, step ORDER BY workflow, p50_s`,
    columns: ['workflow', 'step', 'done', 'p50_s', 'p95_s', 'p99_s'],
  },
  funnel: {
    id: 'workflow.funnel',
    format: 'table',
    sql: `
SELECT concat(workflow, ' · ', step) AS step, uniqExact(run_id) AS runs
FROM ${D}.spans FINAL
WHERE ${msInRange('run_started_at_ms')} AND ${WORKFLOWS} AND kind IN ('trigger', 'step') AND status = 'done'
GROUP BY workflow, step ORDER BY workflow, runs DESC`,
    columns: ['step', 'runs'],
  },
  failingSteps: {
    id: 'workflow.failing_steps',
    format: 'table',
    sql: `
SELECT workflow, step, error_class, error_code, count() AS failures, uniqExact(correlation_id) AS runs
FROM ${D}.spans FINAL
WHERE ${msInRange('run_started_at_ms')} AND ${WORKFLOWS} AND status = 'failed'
GROUP BY workflow, step, error_class, error_code ORDER BY failures DESC LIMIT 20`,
    columns: ['workflow', 'step', 'error_class', 'error_code', 'failures', 'runs'],
  },
  deadLetters: {
    id: 'workflow.dead_letters',
    format: 'table',
    sql: `
SELECT reason, topic, count() AS dead_letters, max(at) AS last
FROM ${D}.dead_letters FINAL
WHERE $__timeFilter(at)
GROUP BY reason, topic ORDER BY dead_letters DESC`,
    columns: ['reason', 'topic', 'dead_letters', 'last'],
  },
} satisfies Record<string, PanelQuery>;

/** The latest change of each alert (a later episode starts later; within one, kinds go in order). */
const LATEST_CHANGES = `
  SELECT *, starts_at FROM ${D}.alert_changes FINAL
  WHERE starts_at <= $__toTime
  ORDER BY starts_at_ms DESC, toInt8(kind) DESC LIMIT 1 BY fingerprint`;

const firingNow = (where: string, order: string) => `
SELECT starts_at AS since, ${TO_S} - toUInt32(starts_at) AS age_s,
  detector, team, severity, workflow, correlation_id, summary, fingerprint
FROM (${LATEST_CHANGES})
WHERE kind = 'firing' AND ${where}
ORDER BY ${order}`;

const FIRING_COLUMNS = ['since', 'age_s', 'detector', 'team', 'severity', 'workflow', 'correlation_id', 'summary'];

export const INCIDENT_QUERIES = {
  alertsOverTime: {
    id: 'incidents.alerts_over_time',
    format: 'timeseries',
    sql: `
SELECT ${bucket('toUInt32(starts_at)')} AS time, detector, team, count() AS alerts
FROM ${D}.alert_changes FINAL
WHERE $__timeFilter(starts_at) AND kind = 'firing'
GROUP BY time, detector, team ORDER BY time`,
    columns: ['time', 'detector', 'team', 'alerts'],
  },
  firing: { id: 'incidents.firing', format: 'table', sql: firingNow('1', 'since'), columns: FIRING_COLUMNS },
  stuck: { id: 'incidents.stuck', format: 'table', sql: firingNow("detector_kind = 'stuck'", 'since'), columns: FIRING_COLUMNS },
  duplicates: {
    id: 'incidents.duplicates',
    format: 'table',
    sql: `
SELECT starts_at AS detected, detector, team, correlation_id, summary
FROM ${D}.alert_changes FINAL
WHERE $__timeFilter(starts_at) AND kind = 'firing' AND detector_kind = 'duplicateEffects'
ORDER BY detected DESC`,
    columns: ['detected', 'detector', 'team', 'correlation_id', 'summary'],
  },
  pages: {
    id: 'incidents.pages',
    format: 'timeseries',
    sql: `
SELECT ${bucket('toUInt32(sent_at)')} AS time, receiver, toString(state) AS sent, count() AS notifications
FROM ${D}.notifications FINAL
WHERE $__timeFilter(sent_at)
GROUP BY time, receiver, sent ORDER BY time`,
    columns: ['time', 'receiver', 'sent', 'notifications'],
  },
  pageTotals: {
    id: 'incidents.page_totals',
    format: 'table',
    sql: `
SELECT receiver, countIf(state = 'firing') AS triggered, countIf(state = 'resolved') AS resolved
FROM ${D}.notifications FINAL
WHERE $__timeFilter(sent_at)
GROUP BY receiver ORDER BY receiver`,
    columns: ['receiver', 'triggered', 'resolved'],
  },
} satisfies Record<string, PanelQuery>;

const ID = "'${correlation_id}'";

export const TRACE_QUERIES = {
  verdict: {
    id: 'trace.verdict',
    format: 'table',
    sql: `
SELECT workflow, run_id, toString(state) AS verdict, deadline_missed, missing_steps, failed_steps, started_at,
  if(completed_at_ms = 0, NULL, (completed_at_ms - started_at_ms) / 1000) AS duration_s, event_count
FROM (SELECT *, started_at FROM ${D}.runs WHERE correlation_id = ${ID} ORDER BY version DESC LIMIT 1 BY run_id)
ORDER BY started_at`,
    columns: ['workflow', 'run_id', 'verdict', 'deadline_missed', 'missing_steps', 'failed_steps', 'started_at', 'duration_s'],
  },
  steps: {
    id: 'trace.steps',
    format: 'table',
    sql: `
SELECT toDateTime(intDiv(start_ms, 1000)) AS started, workflow, step, toString(kind) AS kind, toString(status) AS status, source,
  duration_ms / 1000 AS duration_s, since_trigger_ms / 1000 AS since_trigger_s, error_class, error_code
FROM (SELECT * FROM ${D}.spans WHERE correlation_id = ${ID} ORDER BY version DESC LIMIT 1 BY run_id, step)
ORDER BY start_ms, end_ms`,
    columns: ['started', 'workflow', 'step', 'kind', 'status', 'source', 'duration_s', 'since_trigger_s', 'error_class', 'error_code'],
  },
  events: {
    id: 'trace.events',
    format: 'table',
    sql: `
SELECT toDateTime(intDiv(event_time_ms, 1000)) AS time, event_time_ms % 1000 AS ms, source, type, event_id,
  error_class, error_code, error_message, topic, partition, offset
FROM (SELECT * FROM ${D}.events WHERE correlation_id = ${ID} ORDER BY event_time_ms LIMIT 1 BY source, event_id)
ORDER BY event_time_ms, source, event_id`,
    columns: ['time', 'ms', 'source', 'type', 'event_id', 'error_class', 'error_code', 'error_message'],
  },
  alerts: {
    id: 'trace.alerts',
    format: 'table',
    sql: `
SELECT recorded_at, toString(kind) AS change, detector, team, severity, summary
FROM ${D}.alert_changes FINAL WHERE correlation_id = ${ID}
ORDER BY recorded_at_ms, toInt8(kind)`,
    columns: ['recorded_at', 'change', 'detector', 'team', 'severity', 'summary'],
  },
} satisfies Record<string, PanelQuery>;

/** What ClickHouse holds of the pipeline; the rest comes from /metrics (see PIPELINE_PROMQL). */
export const PIPELINE_QUERIES = {
  intake: {
    id: 'pipeline.intake',
    format: 'timeseries',
    sql: `
SELECT toDateTime(intDiv(intDiv(received_at_ms, 1000), $__interval_s) * $__interval_s) AS time, source, count() / $__interval_s AS events_per_s
FROM ${D}.events FINAL
WHERE ${msInRange('received_at_ms')}
GROUP BY time, source ORDER BY time`,
    columns: ['time', 'source', 'events_per_s'],
  },
  lag: {
    id: 'pipeline.lag',
    format: 'timeseries',
    sql: `
SELECT toDateTime(intDiv(intDiv(received_at_ms, 1000), $__interval_s) * $__interval_s) AS time,
  quantileExact(0.5)(toInt64(received_at_ms) - toInt64(event_time_ms)) / 1000 AS p50_lag_s,
  max(toInt64(received_at_ms) - toInt64(event_time_ms)) / 1000 AS max_lag_s
FROM ${D}.events FINAL
WHERE ${msInRange('received_at_ms')}
GROUP BY time ORDER BY time`,
    columns: ['time', 'p50_lag_s', 'max_lag_s'],
  },
  deadLetters: {
    id: 'pipeline.dead_letters',
    format: 'timeseries',
    sql: `
SELECT ${bucket('toUInt32(at)')} AS time, reason, count() AS dead_letters
FROM ${D}.dead_letters FINAL
WHERE $__timeFilter(at)
GROUP BY time, reason ORDER BY time`,
    columns: ['time', 'reason', 'dead_letters'],
  },
} satisfies Record<string, PanelQuery>;

/** Pipeline panels only /metrics can feed (a Prometheus data source scraping seamwatch). */
export const PIPELINE_PROMQL = {
  flushLatency: 'histogram_quantile(0.95, sum by (le) (rate(seamwatch_store_flush_seconds_bucket[$__rate_interval])))',
  backpressure: 'sum(rate(seamwatch_backpressure_waits_total[$__rate_interval]))',
  bufferedRows: 'sum(seamwatch_buffered_rows)',
  watermarkLag: 'max(seamwatch_watermark_lag_seconds)',
  storeErrors: 'sum by (retryable) (rate(seamwatch_store_errors_total[$__rate_interval]))',
  historyDropped: 'sum by (table) (rate(seamwatch_alert_history_dropped_total[$__rate_interval]))',
} as const;

export const ALL_QUERIES: readonly PanelQuery[] = [SLO_QUERIES, WORKFLOW_QUERIES, INCIDENT_QUERIES, TRACE_QUERIES, PIPELINE_QUERIES].flatMap((group) => Object.values(group));
