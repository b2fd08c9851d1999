import type { AuditRecord, PagingPause, PauseScope, StoredDeadLetter } from '../../domain/controls.ts';
import { int, quote } from './sql.ts';

/** The controls' rows (migration 7) and their reads; the store delegates here. */

type Rows = <T>(query: string) => Promise<T[]>;

export function pagingPauseLine(p: PagingPause, version: number): string {
  return `${JSON.stringify({
    scope: p.scope,
    name: p.name,
    paused: p.paused ? 1 : 0,
    until_ms: Math.max(0, Math.floor(p.until)),
    reason: p.reason,
    actor: p.actor,
    at_ms: Math.max(0, Math.floor(p.at)),
    version,
  })}\n`;
}

export async function pagingPauses(rows: Rows, table: string): Promise<PagingPause[]> {
  const found = await rows<{ scope: string; name: string; paused: number; until_ms: string; reason: string; actor: string; at_ms: string }>(
    `SELECT scope, name, paused, until_ms, reason, actor, at_ms FROM ${table} ORDER BY version DESC LIMIT 1 BY scope, name`,
  );
  return found.map((r) => ({
    scope: r.scope as PauseScope,
    name: r.name,
    paused: Number(r.paused) === 1,
    until: Number(r.until_ms),
    reason: r.reason,
    actor: r.actor,
    at: Number(r.at_ms),
  }));
}

export function auditLine(a: AuditRecord): string {
  return `${JSON.stringify({ id: a.id, at_ms: Math.max(0, Math.floor(a.at)), actor: a.actor, action: a.action, args: a.args, outcome: a.outcome, detail: a.detail })}\n`;
}

export async function audit(rows: Rows, table: string, query: { since: number; limit: number }): Promise<AuditRecord[]> {
  const found = await rows<{ id: string; at_ms: string; actor: string; action: string; args: string; outcome: string; detail: string }>(
    `SELECT id, at_ms, actor, action, args, outcome, detail FROM (
       SELECT id, at_ms, actor, action, args, outcome, detail FROM ${table} ORDER BY at_ms DESC LIMIT 1 BY id
     ) WHERE at_ms >= ${int(Math.max(0, Math.floor(query.since)))} ORDER BY at_ms DESC, id LIMIT ${int(query.limit)}`,
  );
  return found.map((r) => ({ id: r.id, at: Number(r.at_ms), actor: r.actor, action: r.action, args: r.args, outcome: r.outcome as AuditRecord['outcome'], detail: r.detail }));
}

export async function deadLetters(rows: Rows, table: string, query: { topic: string; since: number; limit: number }): Promise<StoredDeadLetter[]> {
  const found = await rows<{ topic: string; partition: number; offset: string; at_ms: string; reason: string; message_key: string; header_names: string[]; header_values: string[]; raw_base64: string }>(
    `SELECT topic, partition, offset, at_ms, reason, message_key, header_names, header_values, raw_base64 FROM ${table}
     WHERE topic = ${quote(query.topic)} AND at_ms >= ${int(Math.max(0, Math.floor(query.since)))}
     ORDER BY partition, offset LIMIT 1 BY topic, partition, offset LIMIT ${int(query.limit)}`,
  );
  return found.map((r) => ({
    topic: r.topic,
    partition: Number(r.partition),
    offset: String(r.offset),
    at: Number(r.at_ms),
    reason: r.reason,
    key: r.message_key === '' ? null : r.message_key,
    headers: Object.fromEntries(r.header_names.map((name, i) => [name, r.header_values[i] ?? ''])),
    raw: r.raw_base64 === '' ? null : Buffer.from(r.raw_base64, 'base64'),
  }));
}
