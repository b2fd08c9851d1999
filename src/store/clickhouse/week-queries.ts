import type { DeadLetterCount, FailureMode, ReportClaim, StepLatency, WeekRange, WorkflowRunStats } from '../../domain/week-stats.ts';
import { int, list, quote } from './sql.ts';

/**
 * The scorecard's queries. Each counts a run or span once, at its newest version
 * (`ORDER BY version DESC LIMIT 1 BY`), so unmerged replays and re-judged runs do not count
 * twice; exact quantiles, so a report and a test reading the same rows agree to the millisecond.
 * Plain SQL that 18.16 and current ClickHouse both run.
 */

type Rows = <T>(query: string) => Promise<T[]>;

const within = (column: string, r: WeekRange) => `${column} >= ${int(Math.max(0, r.from))} AND ${column} < ${int(Math.max(0, r.to))}`;
const num = (v: unknown) => Number(v);
const quantile = (v: unknown) => (v === null || v === undefined || Number.isNaN(Number(v)) ? null : Math.round(Number(v)));

export async function workflowRuns(rows: Rows, runs: string, workflows: readonly string[], range: WeekRange): Promise<WorkflowRunStats[]> {
  if (workflows.length === 0) return [];
  const found = await rows<Record<string, unknown>>(
    `SELECT workflow, count() AS runs,
       countIf(state = 'completed') AS completed, countIf(state = 'failed') AS failed,
       countIf(state = 'deadline_missed') AS deadline_missed, countIf(state = 'compensated') AS compensated,
       countIf(state = 'open') AS open,
       countIf(completed_at_ms > 0) AS with_completion,
       quantilesExactIf(0.5, 0.95)(toInt64(completed_at_ms) - toInt64(started_at_ms), completed_at_ms > 0) AS q
     FROM (
       SELECT workflow, run_id, state, started_at_ms, completed_at_ms FROM ${runs}
       WHERE workflow IN ${list([...workflows])} AND ${within('started_at_ms', range)}
       ORDER BY version DESC LIMIT 1 BY run_id
     ) GROUP BY workflow ORDER BY workflow`,
  );
  return found.map((r) => {
    const q = (r['q'] as unknown[]) ?? [];
    const any = num(r['with_completion']) > 0;
    return {
      workflow: String(r['workflow']),
      runs: num(r['runs']),
      completed: num(r['completed']),
      failed: num(r['failed']),
      deadlineMissed: num(r['deadline_missed']),
      compensated: num(r['compensated']),
      open: num(r['open']),
      p50Ms: any ? quantile(q[0]) : null,
      p95Ms: any ? quantile(q[1]) : null,
    };
  });
}

export async function slowSteps(rows: Rows, spans: string, workflows: readonly string[], range: WeekRange, limit: number): Promise<StepLatency[]> {
  if (workflows.length === 0) return [];
  const found = await rows<Record<string, unknown>>(
    `SELECT workflow, step, count() AS n, quantilesExact(0.5, 0.95)(duration_ms) AS q FROM (
       SELECT workflow, run_id, step, duration_ms, status, kind FROM ${spans}
       WHERE workflow IN ${list([...workflows])} AND ${within('run_started_at_ms', range)}
       ORDER BY version DESC LIMIT 1 BY run_id, step
     ) WHERE kind = 'step' AND status = 'done'
     GROUP BY workflow, step ORDER BY q[2] DESC, workflow, step LIMIT ${int(limit)}`,
  );
  return found.map((r) => {
    const q = r['q'] as unknown[];
    return { workflow: String(r['workflow']), step: String(r['step']), count: num(r['n']), p50Ms: quantile(q[0]) ?? 0, p95Ms: quantile(q[1]) ?? 0 };
  });
}

export async function failureModes(rows: Rows, spans: string, workflows: readonly string[], range: WeekRange, limit: number): Promise<FailureMode[]> {
  if (workflows.length === 0) return [];
  const found = await rows<Record<string, unknown>>(
    `SELECT workflow, step, error_class, error_code, count() AS n, min(correlation_id) AS example FROM (
       SELECT workflow, run_id, step, status, error_class, error_code, correlation_id FROM ${spans}
       WHERE workflow IN ${list([...workflows])} AND ${within('run_started_at_ms', range)}
       ORDER BY version DESC LIMIT 1 BY run_id, step
     ) WHERE status = 'failed'
     GROUP BY workflow, step, error_class, error_code ORDER BY n DESC, workflow, step, error_class, error_code LIMIT ${int(limit)}`,
  );
  return found.map((r) => ({
    workflow: String(r['workflow']),
    step: String(r['step']),
    errorClass: String(r['error_class']),
    errorCode: String(r['error_code']),
    count: num(r['n']),
    exampleCorrelationId: String(r['example']),
  }));
}

export async function deadLetterCounts(rows: Rows, table: string, topics: readonly string[], range: WeekRange): Promise<DeadLetterCount[]> {
  if (topics.length === 0) return [];
  const found = await rows<Record<string, unknown>>(
    `SELECT topic, reason, count() AS n FROM (
       SELECT topic, partition, offset, reason FROM ${table}
       WHERE topic IN ${list([...topics])} AND ${within('at_ms', range)}
       LIMIT 1 BY topic, partition, offset
     ) GROUP BY topic, reason ORDER BY n DESC, topic, reason`,
  );
  return found.map((r) => ({ topic: String(r['topic']), reason: String(r['reason']), count: num(r['n']) }));
}

export const claimLine = (c: ReportClaim) => `${JSON.stringify({ key: c.key, round: c.round, instance: c.instance, state: c.state, at_ms: c.at })}\n`;

export async function reportClaims(rows: Rows, table: string, key: string): Promise<ReportClaim[]> {
  const found = await rows<Record<string, unknown>>(
    `SELECT key, round, instance, state, at_ms FROM ${table} WHERE key = ${quote(key)} LIMIT 1 BY key, round, instance, state`,
  );
  return found.map((r) => ({ key: String(r['key']), round: num(r['round']), instance: String(r['instance']), state: r['state'] as ReportClaim['state'], at: num(r['at_ms']) }));
}
