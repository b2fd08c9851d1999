import { describe, expect, it } from 'vitest';
import { budgetStatus } from '../../src/slo/budget.ts';
import { burnRate } from '../../src/slo/burn-rate.ts';
import type { BudgetStatus } from '../../src/slo/types.ts';

/** Compares every number to 9 decimals: the golden values are exact, the arithmetic is binary. */
function expectBudget(actual: BudgetStatus, expected: BudgetStatus): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [key, value] of Object.entries(expected)) {
    const got = actual[key as keyof BudgetStatus];
    if (value === null) expect(got, key).toBeNull();
    else expect(got, key).toBeCloseTo(value, 9);
  }
}

describe('budgetStatus', () => {
  it.each<[string, number, { good: number; total: number }, BudgetStatus]>([
    [
      '99.9% over 100 000 runs with 37 bad: 100 allowed, 63% left',
      0.999,
      { good: 99_963, total: 100_000 },
      { sli: 0.99963, objective: 0.999, total: 100_000, bad: 37, allowedBad: 100, remainingRatio: 0.63, remainingEvents: 63, consumedRatio: 0.37, burnRate: 0.37 },
    ],
    [
      '99% over 1000 runs with 25 bad: overspent two and a half times',
      0.99,
      { good: 975, total: 1_000 },
      { sli: 0.975, objective: 0.99, total: 1_000, bad: 25, allowedBad: 10, remainingRatio: -1.5, remainingEvents: -15, consumedRatio: 2.5, burnRate: 2.5 },
    ],
    [
      '95% over 200 runs, all good: the whole budget left',
      0.95,
      { good: 200, total: 200 },
      { sli: 1, objective: 0.95, total: 200, bad: 0, allowedBad: 10, remainingRatio: 1, remainingEvents: 10, consumedRatio: 0, burnRate: 0 },
    ],
    [
      '99.9% over 500 runs, all bad: burning a thousand times too fast',
      0.999,
      { good: 0, total: 500 },
      { sli: 0, objective: 0.999, total: 500, bad: 500, allowedBad: 0.5, remainingRatio: -999, remainingEvents: -499.5, consumedRatio: 1000, burnRate: 1000 },
    ],
    [
      'nothing counted: no SLI, nothing spent',
      0.99,
      { good: 0, total: 0 },
      { sli: null, objective: 0.99, total: 0, bad: 0, allowedBad: 0, remainingRatio: 1, remainingEvents: 0, consumedRatio: 0, burnRate: 0 },
    ],
  ])('%s', (_label, objective, counts, expected) => {
    expectBudget(budgetStatus(objective, counts), expected);
  });
});

describe('burnRate', () => {
  it.each([
    ['exactly the allowed share is a burn rate of 1', { good: 990, total: 1_000 }, 0.99, 1],
    ['1.44% bad on a 99.9% SLO is the 14.4× page threshold', { good: 9_856, total: 10_000 }, 0.999, 14.4],
    ['3 bad of 100 on a 99% SLO', { good: 97, total: 100 }, 0.99, 3],
    ['1 bad of 3 on a 90% SLO', { good: 2, total: 3 }, 0.9, 10 / 3],
    ['all bad on a 99.9% SLO', { good: 0, total: 50 }, 0.999, 1000],
    ['all good', { good: 50, total: 50 }, 0.999, 0],
    ['nothing counted burns nothing', { good: 0, total: 0 }, 0.999, 0],
  ])('%s', (_label, counts, objective, expected) => {
    expect(burnRate(counts, objective)).toBeCloseTo(expected, 9);
  });
});
