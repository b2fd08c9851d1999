import type { DeadLetterPage, DeadLetterQuery, RunPage, RunQuery, RunSloVerdict } from '../../domain/browse.ts';
import type { DeadLetter, DeadLetterReason } from '../../domain/dead-letter.ts';
import { runFromRow } from './rows.ts';
import { int, list, quote } from './sql.ts';

/**
 * What the web view browses: runs, dead letters and a run's SLO verdicts. Each run, message or
 * verdict once (its newest version, `LIMIT 1 BY`), so unmerged replays never show twice. Plain
 * SQL that 18.16 and current ClickHouse both run.
 */

type Rows = <T>(query: string) => Promise<T[]>;

const within = (column: string, from: number, to: number) =>
  `${column} >= ${int(Math.max(0, Math.floor(from)))} AND ${column} < ${int(Math.max(0, Math.floor(to)))}`;

export async function runs(rows: Rows, table: string, columns: string, query: RunQuery): Promise<RunPage> {
  const workflow = query.workflow === undefined ? '1' : `workflow = ${quote(query.workflow)}`;
  // The state and the start are filtered after the newest version is picked: an older version
  // in another state (open, before it completed) must not match.
  const newest = `SELECT ${columns} FROM ${table} WHERE ${workflow} AND ${within('started_at_ms', query.from, query.to)}
    ORDER BY version DESC LIMIT 1 BY run_id`;
  const outer = `${query.state === undefined ? '1' : `state = ${quote(query.state)}`} AND ${within('started_at_ms', query.from, query.to)}`;
  const [found, counted] = await Promise.all([
    rows<Record<string, unknown>>(`SELECT ${columns} FROM (${newest}) WHERE ${outer} ORDER BY started_at_ms DESC, run_id LIMIT ${int(query.limit)}`),
    rows<{ n: string }>(`SELECT count() AS n FROM (${newest}) WHERE ${outer}`),
  ]);
  return { runs: found.map(runFromRow), total: Number(counted[0]?.n ?? 0) };
}

export async function deadLetters(rows: Rows, table: string, query: DeadLetterQuery): Promise<DeadLetterPage> {
  const filter = [
    within('at_ms', query.from, query.to),
    ...(query.topic === undefined ? [] : [`topic = ${quote(query.topic)}`]),
    ...(query.reason === undefined ? [] : [`reason = ${quote(query.reason)}`]),
  ].join(' AND ');
  const once = `SELECT topic, partition, offset, at_ms, reason, detail, message_key, header_names, header_values, raw_base64
    FROM ${table} WHERE ${filter} LIMIT 1 BY topic, partition, offset`;
  const [found, counted] = await Promise.all([
    rows<Record<string, unknown>>(`SELECT * FROM (${once}) ORDER BY at_ms DESC, topic, partition, offset DESC LIMIT ${int(query.limit)}`),
    rows<{ n: string }>(`SELECT count() AS n FROM (${once})`),
  ]);
  return { deadLetters: found.map(deadLetterFromRow), total: Number(counted[0]?.n ?? 0) };
}

function deadLetterFromRow(row: Record<string, unknown>): DeadLetter {
  const names = row['header_names'] as string[];
  const values = row['header_values'] as string[];
  const raw = String(row['raw_base64'] ?? '');
  const key = String(row['message_key'] ?? '');
  return {
    reason: String(row['reason']) as DeadLetterReason,
    detail: String(row['detail']),
    origin: { topic: String(row['topic']), partition: Number(row['partition']), offset: String(row['offset']) },
    raw: raw === '' ? null : Buffer.from(raw, 'base64'),
    headers: Object.fromEntries(names.map((n, i) => [n, values[i] ?? ''])),
    key: key === '' ? null : key,
    at: Number(row['at_ms']),
  };
}

export async function runSloVerdicts(rows: Rows, table: string, runIds: readonly string[], slos: readonly string[]): Promise<RunSloVerdict[]> {
  if (runIds.length === 0 || slos.length === 0) return [];
  // By the table's key (slo, run_id), so this stays a point read however large the table grows.
  const found = await rows<{ slo: string; run_id: string; due_ms: string; good: number }>(
    `SELECT slo, run_id, due_ms, good FROM ${table} WHERE slo IN ${list([...slos])} AND run_id IN ${list([...runIds])}
     ORDER BY version DESC LIMIT 1 BY slo, run_id`,
  );
  return found
    .map((r) => ({ slo: r.slo, runId: r.run_id, due: Number(r.due_ms), good: Number(r.good) === 1 }))
    .sort((a, b) => a.slo.localeCompare(b.slo) || a.runId.localeCompare(b.runId));
}
