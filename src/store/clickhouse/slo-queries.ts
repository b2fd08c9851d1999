import type { SloRange } from '../../domain/store.ts';
import type { Counts, MinuteCounts } from '../../domain/slo-counts.ts';
import { int, quote } from './sql.ts';

/** The SLO engine's reads: per-minute counts from `slo_minutes`, newest version per minute. */

type Rows = <T>(query: string) => Promise<T[]>;

function rangeFilter(ranges: readonly SloRange[]): string {
  return ranges
    .map((r) => `(slo = ${quote(r.slo)} AND minute >= ${int(Math.max(0, r.fromMinute))} AND minute < ${int(Math.max(0, r.toMinute))})`)
    .join(' OR ');
}

export async function sloMinutes(rows: Rows, table: string, ranges: readonly SloRange[]): Promise<Map<string, MinuteCounts[]>> {
  const out = new Map<string, MinuteCounts[]>(ranges.map((r) => [r.slo, []]));
  if (ranges.length === 0) return out;
  const found = await rows<{ slo: string; minute: number; good: string; total: string }>(
    `SELECT slo, minute, good, total FROM ${table} FINAL WHERE ${rangeFilter(ranges)} ORDER BY slo, minute`,
  );
  // A minute every run moved away from holds a zero row; it counts nothing. Filtered here,
  // not in SQL: a condition on a non-key column may be applied before FINAL picks the newest.
  for (const r of found) if (Number(r.total) > 0) out.get(r.slo)?.push({ minute: Number(r.minute), good: Number(r.good), total: Number(r.total) });
  return out;
}

export async function sloCounts(rows: Rows, table: string, ranges: readonly SloRange[]): Promise<Map<string, Counts>> {
  const out = new Map<string, Counts>(ranges.map((r) => [r.slo, { good: 0, total: 0 }]));
  if (ranges.length === 0) return out;
  const found = await rows<{ slo: string; good: string; total: string }>(
    `SELECT slo, sum(good) AS good, sum(total) AS total FROM ${table} FINAL WHERE ${rangeFilter(ranges)} GROUP BY slo`,
  );
  for (const r of found) out.set(r.slo, { good: Number(r.good), total: Number(r.total) });
  return out;
}

export async function sloSeries(rows: Rows, table: string, range: SloRange, bucketMinutes: number): Promise<MinuteCounts[]> {
  // The bucket gets its own alias: ClickHouse resolves aliases inside WHERE, and one named
  // "minute" would make the range filter apply to the bucket instead of the minute.
  const found = await rows<{ bucket: string; good: string; total: string }>(
    `SELECT intDiv(minute, ${int(bucketMinutes)}) * ${int(bucketMinutes)} AS bucket, sum(good) AS good, sum(total) AS total
     FROM ${table} FINAL WHERE ${rangeFilter([range])} GROUP BY bucket ORDER BY bucket`,
  );
  return found.map((r) => ({ minute: Number(r.bucket), good: Number(r.good), total: Number(r.total) })).filter((b) => b.total > 0);
}
