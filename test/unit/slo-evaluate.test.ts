import { describe, expect, it } from 'vitest';
import { defaultTiers } from '../../src/slo/burn-rate.ts';
import { evaluateAt, evaluateRange } from '../../src/slo/evaluate.ts';
import type { Counts, MinuteCounts, SloAlertSignal, SloDefinition } from '../../src/slo/types.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** A minute boundary to start the trouble at: 2024-03-01T00:00Z. */
const T0 = Date.parse('2024-03-01T00:00:00Z');
const M0 = T0 / MINUTE;

function slo(overrides: Partial<SloDefinition> = {}): SloDefinition {
  return {
    name: 'upgrade-sync',
    workflow: 'plan-upgrade',
    owner: 'billing-platform',
    objective: 0.999,
    window: { kind: 'rolling', durationMs: 30 * DAY },
    indicator: { kind: 'success-ratio' },
    alerting: { tiers: defaultTiers(30 * DAY), minEvents: 20 },
    origin: 'config',
    ...overrides,
  };
}

/** `runs` per minute over [fromMinute, toMinute), with `bad(minute)` of them bad. */
function traffic(fromMinute: number, toMinute: number, runs: number, bad: (minute: number) => number): MinuteCounts[] {
  const out: MinuteCounts[] = [];
  for (let m = fromMinute; m < toMinute; m++) out.push({ minute: m, good: runs - bad(m), total: runs });
  return out;
}

const noBudget = (): Counts => ({ good: 0, total: 0 });
const firstFiring = (signals: SloAlertSignal[], tier: string) => signals.find((s) => s.kind === 'firing' && s.tier === tier);

describe('budget consumed → detection time (SRE workbook, 99.9% over 30d, 100 runs a minute)', () => {
  // Three days of good runs, then bad ones from T0 on. A tier's long window reaches its factor
  // after factor × longWindow × (1 − objective) / errorRatio of bad traffic (14.4 × 1h × 0.001 / 1 = 51.84 s).
  // Windows are whole minutes ending at a minute boundary, so a tier fires at the first boundary
  // at or after that: ceil(seconds / 60) minutes after T0. The short windows are over their
  // factors by then, and the guard (20 runs) is long met.
  it.each([
    { errors: 1, tier: 'page-1h', factor: 14.4, longWindowMs: HOUR, seconds: 51.84, minutes: 1 },
    { errors: 1, tier: 'page-6h', factor: 6, longWindowMs: 6 * HOUR, seconds: 129.6, minutes: 3 },
    { errors: 1, tier: 'ticket-1d', factor: 3, longWindowMs: DAY, seconds: 259.2, minutes: 5 },
    { errors: 1, tier: 'ticket-3d', factor: 1, longWindowMs: 3 * DAY, seconds: 259.2, minutes: 5 },
    { errors: 0.5, tier: 'page-1h', factor: 14.4, longWindowMs: HOUR, seconds: 103.68, minutes: 2 },
    { errors: 0.5, tier: 'page-6h', factor: 6, longWindowMs: 6 * HOUR, seconds: 259.2, minutes: 5 },
  ])('$tier at $errors× errors: long window over after $seconds s, fires $minutes min after T0', ({ errors, tier, factor, longWindowMs, seconds, minutes }) => {
    expect((factor * longWindowMs * 0.001) / errors / 1000).toBeCloseTo(seconds, 9);
    expect(Math.ceil(seconds / 60)).toBe(minutes);
    const series = traffic(M0 - 3 * 24 * 60, M0 + 30, 100, (m) => (m >= M0 ? 100 * errors : 0));
    const { signals } = evaluateRange(slo(), series, noBudget, T0 - MINUTE, T0 + 30 * MINUTE, new Set());
    expect(firstFiring(signals, tier)?.at).toBe(T0 + minutes * MINUTE);
  });

  it('fires the tiers in that order, each once, and nothing before the bad runs', () => {
    const series = traffic(M0 - 3 * 24 * 60, M0 + 10, 100, (m) => (m >= M0 ? 100 : 0));
    const { signals, firing } = evaluateRange(slo(), series, noBudget, T0 - HOUR, T0 + 10 * MINUTE, new Set());
    expect(signals.map((s) => [s.kind, s.tier, (s.at - T0) / MINUTE])).toEqual([
      ['firing', 'page-1h', 1],
      ['firing', 'page-6h', 3],
      ['firing', 'ticket-1d', 5],
      ['firing', 'ticket-3d', 5],
    ]);
    expect(firing).toEqual(new Set(['page-1h', 'page-6h', 'ticket-1d', 'ticket-3d']));
  });

  it('at the first page, the long window holds 100 of 6000 runs bad: 16.67×, and 2.31% of a 30d budget is gone', () => {
    const series = traffic(M0 - 3 * 24 * 60, M0 + 1, 100, (m) => (m >= M0 ? 100 : 0));
    const { status } = evaluateAt(slo(), series, noBudget(), T0 + MINUTE, new Set());
    const page = status.burns.find((b) => b.tier.name === 'page-1h')!;
    expect(page).toMatchObject({ longEvents: 6_000, firing: true });
    expect(page.longBurnRate).toBeCloseTo(1000 / 60, 9);
    expect(page.shortBurnRate).toBeCloseTo(200, 9);
    // 100 bad runs against a budget of 0.1% of 30 days at 100 a minute (4320 runs).
    expect(100 / (0.001 * 30 * 24 * 60 * 100)).toBeCloseTo(0.0231, 4);
  });
});

describe('a tier fires only while both windows burn and enough runs were counted', () => {
  const pageOnly = (minEvents = 20) => slo({ alerting: { tiers: defaultTiers(30 * DAY).slice(0, 1), minEvents } });

  it.each([
    ['1 bad of 3 does not page (guard 20)', 3, 1, 20, false],
    ['5 bad of 19 does not page (guard 20)', 19, 5, 20, false],
    ['5 bad of 20 pages (guard 20)', 20, 5, 20, true],
    ['1 bad of 3 pages when the guard is lowered to 3', 3, 1, 3, true],
    ['1 bad of 20 is below 14.4× on a 99% SLO', 20, 1, 20, false],
  ])('%s', (_label, runs, bad, minEvents, fires) => {
    // A 99% SLO: 1 of 3 bad is a burn of 33×, 1 of 20 is 5×. All runs in the last minute, so both windows see them.
    const definition = { ...pageOnly(minEvents), objective: 0.99 };
    const series: MinuteCounts[] = [{ minute: M0 - 1, good: runs - bad, total: runs }];
    const { status, signals } = evaluateAt(definition, series, noBudget(), T0, new Set());
    expect(status.burns[0]!.longEvents).toBe(runs);
    expect(status.burns[0]!.firing).toBe(fires);
    expect(signals.map((s) => s.kind)).toEqual(fires ? ['firing'] : []);
  });

  it('a burn exactly at the factor fires, though 1% / (1 − 0.99) is 0.9999999999999991 in binary', () => {
    // 1 bad of 100 every minute on a 99% SLO is a burn of exactly 1, the 3d ticket's factor on 30d.
    const ticket = slo({ objective: 0.99, alerting: { tiers: defaultTiers(30 * DAY).slice(3), minEvents: 20 } });
    const series = traffic(M0 - 3 * 24 * 60, M0, 100, () => 1);
    const { status } = evaluateAt(ticket, series, noBudget(), T0, new Set());
    expect(status.burns[0]!.longBurnRate).not.toBe(1);
    expect(status.burns[0]!.longBurnRate).toBeCloseTo(1, 12);
    expect(status.burns[0]!.firing).toBe(true);
  });

  it('long window over, short window not: no page', () => {
    // 100 bad in one minute 30 minutes ago: 1h window 100/6000 → 16.7×; 5m window 0.
    const series = traffic(M0 - 60, M0, 100, (m) => (m === M0 - 30 ? 100 : 0));
    const { status } = evaluateAt(pageOnly(), series, noBudget(), T0, new Set());
    expect(status.burns[0]).toMatchObject({ firing: false, shortBurnRate: 0 });
    expect(status.burns[0]!.longBurnRate).toBeCloseTo(1000 / 60, 9);
  });

  it('short window over, long window not: no page', () => {
    // 3 bad in the last minute of a busy hour: 5m window 3/500 → 6×; 1h 3/6000 → 0.5×.
    const series = traffic(M0 - 60, M0, 100, (m) => (m === M0 - 1 ? 3 : 0));
    const { status } = evaluateAt(pageOnly(), series, noBudget(), T0, new Set());
    expect(status.burns[0]!.firing).toBe(false);
    expect(status.burns[0]!.shortBurnRate).toBeCloseTo(6, 9);
    expect(status.burns[0]!.longBurnRate).toBeCloseTo(0.5, 9);
  });

  it('fires, keeps firing, and resolves when the short window recovers though the long one still burns', () => {
    // 10% bad for ten minutes from T0. 1h window: 10k bad of 6000 → 1.667k× ≥ 14.4 from k = 9.
    // The last bad minute is T0+9; the 5m window is clean again at T0+15, the 1h window not until T0+70.
    const series = traffic(M0 - 60, M0 + 120, 100, (m) => (m >= M0 && m < M0 + 10 ? 10 : 0));
    const { signals, firing } = evaluateRange(pageOnly(), series, () => ({ good: 999_000, total: 1_000_000 }), T0, T0 + 120 * MINUTE, new Set());
    expect(signals.map((s) => [s.kind, (s.at - T0) / MINUTE])).toEqual([
      ['firing', 9],
      ['resolved', 15],
    ]);
    expect(firing).toEqual(new Set());
    // A signal's burn rate is the lower window's, the one compared with the factor: 15× firing, 0× resolved.
    expect(signals.map((s) => Number(s.burnRate.toFixed(9)))).toEqual([15, 0]);
    const resolvedAt = evaluateAt(pageOnly(), series, noBudget(), T0 + 15 * MINUTE, new Set(['page-1h']));
    expect(resolvedAt.status.burns[0]!.longBurnRate).toBeCloseTo(1000 / 60, 9);
    expect(resolvedAt.status.burns[0]!.shortBurnRate).toBe(0);
    const stillFiring = evaluateAt(pageOnly(), series, noBudget(), T0 + 14 * MINUTE, new Set(['page-1h']));
    expect(stillFiring.signals).toEqual([]);
    expect(stillFiring.status.burns[0]!.shortBurnRate).toBeCloseTo(20, 9);
  });

  it('a firing signal says what burns, against what, and the budget left', () => {
    const series = traffic(M0 - 60, M0 + 10, 100, (m) => (m >= M0 ? 10 : 0));
    const { signals } = evaluateRange(pageOnly(), series, () => ({ good: 999_900 - 600, total: 1_000_000 }), T0, T0 + 9 * MINUTE, new Set());
    expect(signals).toHaveLength(1);
    const { burnRate, budgetRemaining, ...rest } = signals[0]!;
    expect(rest).toEqual({
      kind: 'firing',
      slo: 'upgrade-sync',
      workflow: 'plan-upgrade',
      owner: 'billing-platform',
      tier: 'page-1h',
      severity: 'page',
      longWindowMs: HOUR,
      shortWindowMs: 5 * MINUTE,
      factor: defaultTiers(30 * DAY)[0]!.factor,
      at: T0 + 9 * MINUTE,
    });
    // The lower of the two windows: 1h 90/6000 → 15×, 5m 50/500 → 100×.
    expect(burnRate).toBeCloseTo(15, 9);
    // 700 bad of 1 000 000 against 1000 allowed.
    expect(budgetRemaining).toBeCloseTo(0.3, 9);
  });
});

describe('event time, minute by minute', () => {
  const series = traffic(M0 - 3 * 24 * 60, M0 + 240, 100, (m) => (m >= M0 && m < M0 + 20 ? 30 : m >= M0 + 100 && m < M0 + 130 ? 5 : 0));
  const budgetAt = (at: number): Counts => ({ good: Math.floor(at / MINUTE) % 1000, total: 1000 });

  it('any instant within a minute judges the same windows, and signals carry the minute boundary', () => {
    // 30% bad from T0: at T0+3 the 1h window holds 90 of 6000 bad → 15×, the page fires.
    const atBoundary = evaluateAt(slo(), series, budgetAt(T0), T0 + 3 * MINUTE, new Set());
    const within = evaluateAt(slo(), series, budgetAt(T0), T0 + 3 * MINUTE + 59_999, new Set());
    expect(within.status.burns).toEqual(atBoundary.status.burns);
    expect(within.signals).toEqual(atBoundary.signals);
    expect(within.signals.map((s) => [s.tier, s.at])).toEqual([['page-1h', T0 + 3 * MINUTE]]);
    expect(within.status.at).toBe(T0 + 3 * MINUTE + 59_999);
  });

  it('a replay in one range raises the same signals in the same order as live cycles at odd times', () => {
    const replay = evaluateRange(slo(), series, budgetAt, T0 - HOUR, T0 + 240 * MINUTE, new Set());
    expect(replay.signals.length).toBeGreaterThan(4);
    const live: SloAlertSignal[] = [];
    let firing: ReadonlySet<string> = new Set();
    let from = T0 - HOUR;
    for (const to of [T0 - HOUR + 30_000, T0 + 1_000, T0 + 2 * MINUTE + 17_000, T0 + 2 * MINUTE + 59_000, T0 + 61 * MINUTE, T0 + 150 * MINUTE + 1, T0 + 240 * MINUTE]) {
      const cycle = evaluateRange(slo(), series, budgetAt, from, to, firing);
      live.push(...cycle.signals);
      firing = cycle.firing;
      from = to;
    }
    expect(live).toEqual(replay.signals);
    expect(firing).toEqual(replay.firing);
  });

  it('stepping evaluateAt boundary by boundary gives the same signals as evaluateRange', () => {
    const stepped: SloAlertSignal[] = [];
    const firing = new Set<string>();
    for (let at = T0 - HOUR + MINUTE; at <= T0 + 240 * MINUTE; at += MINUTE) {
      for (const s of evaluateAt(slo(), series, budgetAt(at), at, firing).signals) {
        stepped.push(s);
        if (s.kind === 'firing') firing.add(s.tier);
        else firing.delete(s.tier);
      }
    }
    expect(stepped).toEqual(evaluateRange(slo(), series, budgetAt, T0 - HOUR, T0 + 240 * MINUTE, new Set()).signals);
  });

  it('asks for budget counts only where a signal needs them and for the last status', () => {
    const asked: number[] = [];
    const { signals, status } = evaluateRange(slo(), series, (at) => (asked.push(at), budgetAt(at)), T0 - HOUR, T0 + 240 * MINUTE, new Set());
    expect(asked).toEqual([...new Set(signals.map((s) => s.at)), T0 + 240 * MINUTE]);
    expect(status?.at).toBe(T0 + 240 * MINUTE);
    expect(status?.budget.total).toBe(1000);
  });

  it.each([
    ['within one minute', T0 + 1_000, T0 + 59_999],
    ['from a boundary to itself (the start is exclusive)', T0, T0],
    ['from a boundary to just before the next', T0, T0 + 59_999],
  ])('a range without a minute boundary evaluates nothing: %s', (_label, from, to) => {
    const result = evaluateRange(slo(), series, budgetAt, from, to, new Set(['page-1h']));
    expect(result).toEqual({ signals: [], firing: new Set(['page-1h']), status: undefined });
  });

  it('does not change the set it is given', () => {
    const wasFiring = new Set(['page-1h']);
    evaluateRange(slo(), series, budgetAt, T0 + 100 * MINUTE, T0 + 240 * MINUTE, wasFiring);
    expect(wasFiring).toEqual(new Set(['page-1h']));
  });

  it('the status has the budget over the SLO window and where that window starts', () => {
    const calendar = slo({ window: { kind: 'calendar', unit: 'month', timeZone: 'Europe/Berlin' } });
    const { status } = evaluateAt(calendar, series, { good: 99_963, total: 100_000 }, T0 + 30 * MINUTE, new Set());
    expect(new Date(status.windowStart).toISOString()).toBe('2024-02-29T23:00:00.000Z');
    expect(status.budget.remainingRatio).toBeCloseTo(0.63, 9);
  });
});
