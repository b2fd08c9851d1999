import { describe, expect, it } from 'vitest';
import { claimReport, decide, markSent, type ClaimStore } from '../../src/scorecard/claims.ts';
import type { ReportClaim } from '../../src/domain/week-stats.ts';

const H = 3_600_000;
const row = (round: number, instance: string, state: ReportClaim['state'], at: number): ReportClaim => ({ key: 'k', round, instance, state, at });

describe('who may send a scorecard (decide)', () => {
  it.each([
    ['no claims: open round 0', [], 10 * H, { kind: 'open', round: 0 }],
    ['a sent row wins over everything', [row(0, 'a', 'claimed', 0), row(0, 'a', 'sent', 1), row(1, 'b', 'claimed', 5 * H)], 10 * H, { kind: 'sent', by: 'a', at: 1 }],
    ['a fresh claim is held by its earliest claimer', [row(0, 'b', 'claimed', 10), row(0, 'a', 'claimed', 10)], 20, { kind: 'held', by: 'a', at: 10 }],
    ['a claim older than the lease without sent is stale: next round', [row(0, 'a', 'claimed', 0)], H, { kind: 'open', round: 1 }],
    ['the newest round decides', [row(0, 'a', 'claimed', 0), row(1, 'c', 'claimed', 2 * H)], 2 * H + 5, { kind: 'held', by: 'c', at: 2 * H }],
  ] as const)("%s", (_name, rows, now, expected) => {
    expect(decide(rows as readonly ReportClaim[], now, H)).toEqual(expected);
  });
});

/** An append-only list: what the ClickHouse table is to the protocol (integration tests use the real one). */
class ListClaims implements ClaimStore {
  readonly rows: ReportClaim[] = [];
  async addReportClaims(claims: readonly ReportClaim[]): Promise<void> {
    this.rows.push(...claims);
  }
  async reportClaims(key: string): Promise<ReportClaim[]> {
    return this.rows.filter((r) => r.key === key);
  }
}

describe('claiming a send (claimReport)', () => {
  const options = (now: () => number, sleep: (ms: number) => Promise<void> = async () => undefined) => ({ now, leaseMs: H, settleMs: 3_000, sleep });

  it('lets exactly one of two instances that both found the key free send', async () => {
    const store = new ListClaims();
    let t = 1_000;
    // Both read before either inserts; both wait out the settle time, then read each other's row.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let waiting = 0;
    const sleep = async () => {
      if (++waiting === 2) release();
      await gate;
    };
    const [a, b] = await Promise.all([claimReport(store, 'k', 'b-instance', options(() => t++, sleep)), claimReport(store, 'k', 'a-instance', options(() => t++, sleep))]);
    expect([a, b].filter((r) => r.won)).toHaveLength(1);
    expect(a).toEqual({ won: true, round: 0 });
    expect(b).toEqual({ won: false, reason: 'lost', by: 'b-instance' });
  });

  it('never sends twice once sent, whatever the lease says', async () => {
    const store = new ListClaims();
    const won = await claimReport(store, 'k', 'a', options(() => 0));
    expect(won).toEqual({ won: true, round: 0 });
    await markSent(store, 'k', 0, 'a', 10);
    expect(await claimReport(store, 'k', 'b', options(() => 100 * H))).toEqual({ won: false, reason: 'sent', by: 'a' });
  });

  it('retries a claim whose holder died before sending, after the lease, in a new round', async () => {
    const store = new ListClaims();
    await claimReport(store, 'k', 'crashed', options(() => 0));
    expect(await claimReport(store, 'k', 'restarted', options(() => H - 1))).toEqual({ won: false, reason: 'held', by: 'crashed' });
    expect(await claimReport(store, 'k', 'restarted', options(() => H))).toEqual({ won: true, round: 1 });
  });
});
