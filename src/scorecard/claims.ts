import type { ReportClaim } from '../domain/week-stats.ts';

/**
 * Exactly one send per (team, week), across restarts and instances, on a store without
 * transactions or compare-and-set (ClickHouse). The claims table only ever gains rows; every
 * instance reads all rows of a key and applies the same pure rules below, so they agree.
 *
 * 1. Read the key's rows. A `sent` row: done, never send again. A claim in the newest round
 *    younger than the lease: someone is sending; stay out. Otherwise open round r+1.
 * 2. Insert our claim row for round r+1, wait `settleMs`, read again. The round's winner is
 *    its earliest claim (time, then instance id as tie-break). Only the winner sends.
 *    Why the wait makes this safe: two instances that both found round r+1 free each insert
 *    within a moment of their read; each reads back only after `settleMs`, by which time the
 *    other's row, inserted before the first's wait ended, is visible to it (an acknowledged
 *    insert on one server is read by the next query), so both see both rows and pick the same
 *    winner. Only an instance that paused longer than `settleMs` between reading and inserting
 *    could miss it; `settleMs` is seconds, far above an insert's latency.
 * 3. After the mail server accepted the message, insert a `sent` row.
 *
 * A crash between claim and send leaves a claim without `sent`; after the lease it is stale
 * and the next round retries: a crash is retried, not lost. A crash after the mail server
 * accepted but before the `sent` row (milliseconds) would send again after the lease; the
 * message carries the same Message-ID every time, which receiving servers use to drop the
 * copy. The lease must outlast the winner's own retries (config checks retryFor < claimLease).
 * On a replicated cluster the claim rows must be inserted with `insert_quorum` and read with
 * `select_sequential_consistency`, or a read can miss a row another replica already holds.
 */

export type ClaimDecision =
  | { kind: 'sent'; by: string; at: number }
  | { kind: 'held'; by: string; at: number }
  | { kind: 'open'; round: number };

const earliest = (a: ReportClaim, b: ReportClaim) => a.at - b.at || (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0);

/** The winner of a round: its earliest claim. */
export function roundWinner(rows: readonly ReportClaim[], round: number): ReportClaim | undefined {
  return rows.filter((r) => r.round === round && r.state === 'claimed').sort(earliest)[0];
}

/** What the rows say, at wall-clock `now`: sent, held by a live claim, or open for a new round. */
export function decide(rows: readonly ReportClaim[], now: number, leaseMs: number): ClaimDecision {
  const sent = rows.filter((r) => r.state === 'sent').sort(earliest)[0];
  if (sent) return { kind: 'sent', by: sent.instance, at: sent.at };
  if (rows.length === 0) return { kind: 'open', round: 0 };
  const round = Math.max(...rows.map((r) => r.round));
  const winner = roundWinner(rows, round);
  if (winner && now - winner.at < leaseMs) return { kind: 'held', by: winner.instance, at: winner.at };
  return { kind: 'open', round: round + 1 };
}

export interface ClaimStore {
  addReportClaims(claims: readonly ReportClaim[]): Promise<void>;
  reportClaims(key: string): Promise<ReportClaim[]>;
}

export type ClaimResult = { won: true; round: number } | { won: false; reason: 'sent' | 'held' | 'lost'; by: string };

/** Steps 1 and 2 above. */
export async function claimReport(
  store: ClaimStore,
  key: string,
  instance: string,
  options: { now: () => number; leaseMs: number; settleMs: number; sleep: (ms: number) => Promise<void> },
): Promise<ClaimResult> {
  const before = decide(await store.reportClaims(key), options.now(), options.leaseMs);
  if (before.kind !== 'open') return { won: false, reason: before.kind, by: before.by };
  await store.addReportClaims([{ key, round: before.round, instance, state: 'claimed', at: options.now() }]);
  await options.sleep(options.settleMs);
  const rows = await store.reportClaims(key);
  const sent = rows.find((r) => r.state === 'sent');
  if (sent) return { won: false, reason: 'sent', by: sent.instance };
  const winner = roundWinner(rows, before.round);
  if (winner?.instance === instance) return { won: true, round: before.round };
  return { won: false, reason: 'lost', by: winner?.instance ?? '' };
}

export async function markSent(store: ClaimStore, key: string, round: number, instance: string, at: number): Promise<void> {
  await store.addReportClaims([{ key, round, instance, state: 'sent', at }]);
}
