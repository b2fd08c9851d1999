import { describe, expect, it } from 'vitest';
import { burnRateFactor, CumulativeCounts, defaultTiers, windowCounts } from '../../src/slo/burn-rate.ts';
import type { MinuteCounts } from '../../src/slo/types.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('defaultTiers', () => {
  it('are the SRE workbook tiers plus Sloth\'s 1d tier, as budget shares within long windows', () => {
    expect(defaultTiers(30 * DAY).map(({ factor: _, ...t }) => t)).toEqual([
      { name: 'page-1h', severity: 'page', longWindowMs: HOUR, shortWindowMs: 5 * MINUTE, budgetConsumed: 0.02 },
      { name: 'page-6h', severity: 'page', longWindowMs: 6 * HOUR, shortWindowMs: 30 * MINUTE, budgetConsumed: 0.05 },
      { name: 'ticket-1d', severity: 'ticket', longWindowMs: DAY, shortWindowMs: 2 * HOUR, budgetConsumed: 0.1 },
      { name: 'ticket-3d', severity: 'ticket', longWindowMs: 3 * DAY, shortWindowMs: 6 * HOUR, budgetConsumed: 0.1 },
    ]);
  });

  // factor = budgetConsumed × period / long window, e.g. 0.02 × 720h / 1h = 14.4.
  it.each([
    ['30d: the workbook\'s 14.4, 6, 3, 1', 30 * DAY, [14.4, 6, 3, 1]],
    ['28d: 13.44, 5.6, 2.8, 0.933…', 28 * DAY, [13.44, 5.6, 2.8, 2.8 / 3]],
    ['a calendar week (7d): 3.36, 1.4, 0.7, 0.233…', 7 * DAY, [3.36, 1.4, 0.7, 0.7 / 3]],
    ['a calendar quarter (90d): 43.2, 18, 9, 3', 90 * DAY, [43.2, 18, 9, 3]],
  ])('scale with the SLO period — %s', (_label, period, factors) => {
    const tiers = defaultTiers(period);
    expect(tiers).toHaveLength(factors.length);
    tiers.forEach((tier, i) => expect(tier.factor, tier.name).toBeCloseTo(factors[i]!, 9));
  });

  it('leave out tiers whose long window is longer than the period', () => {
    expect(defaultTiers(DAY).map((t) => [t.name, Number(t.factor.toFixed(9))])).toEqual([
      ['page-1h', 0.48],
      ['page-6h', 0.2],
      ['ticket-1d', 0.1],
    ]);
    expect(defaultTiers(30 * MINUTE)).toEqual([]);
  });

  it('burnRateFactor is budget share × period / long window', () => {
    expect(burnRateFactor(0.05, 30 * DAY, 6 * HOUR)).toBeCloseTo(6, 9);
    expect(burnRateFactor(1, 30 * DAY, 30 * DAY)).toBeCloseTo(1, 9);
  });
});

describe('sums over a per-minute series', () => {
  // Minutes 100..109 with 10 runs each; minute m has m − 100 bad runs.
  const series: MinuteCounts[] = Array.from({ length: 10 }, (_, i) => ({ minute: 100 + i, good: 10 - i, total: 10 }));
  const shuffled = [series[7]!, series[2]!, series[9]!, series[0]!, series[5]!, series[1]!, series[8]!, series[3]!, series[6]!, series[4]!];

  it.each([
    ['a 5-minute window ending at minute 110 covers minutes 105–109', 110, 5 * MINUTE, { good: 15, total: 50 }],
    ['the end minute itself is excluded', 105, 1 * MINUTE, { good: 6, total: 10 }],
    ['a window before the series is empty', 100, 60 * MINUTE, { good: 0, total: 0 }],
    ['a window reaching past both ends counts everything', 200, DAY, { good: 55, total: 100 }],
    ['a window ending inside the series', 103, 2 * MINUTE, { good: 17, total: 20 }],
    ['a zero window is empty', 105, 0, { good: 0, total: 0 }],
  ])('%s', (_label, end, window, expected) => {
    expect(windowCounts(series, end, window)).toEqual(expected);
    expect(new CumulativeCounts(series).windowCounts(end, window)).toEqual(expected);
    expect(new CumulativeCounts(shuffled).windowCounts(end, window)).toEqual(expected);
  });

  it('adds up a minute given twice', () => {
    const twice = [...series, { minute: 104, good: 1, total: 3 }];
    expect(new CumulativeCounts(twice).windowCounts(105, MINUTE)).toEqual({ good: 7, total: 13 });
    expect(windowCounts(twice, 105, MINUTE)).toEqual({ good: 7, total: 13 });
  });

  it('refuses a window that is not whole minutes', () => {
    expect(() => windowCounts(series, 110, 90_000)).toThrow('a window over minute counts must be whole minutes, not 90000 ms');
    expect(() => new CumulativeCounts(series).windowCounts(110, 90_000)).toThrow(RangeError);
  });
});
