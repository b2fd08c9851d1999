import { describe, expect, it } from 'vitest';
import { atMostEvery } from '../../src/base/every.ts';

describe('atMostEvery', () => {
  it('opens at once, then once per period', () => {
    let now = 1_000;
    const gate = atMostEvery(60_000, () => now);
    expect(gate()).toBe(true);
    now += 59_999;
    expect(gate()).toBe(false);
    now += 1;
    expect(gate()).toBe(true);
    expect(gate()).toBe(false);
  });
});
