import { describe, expect, it } from 'vitest';
import { isoWeek, lastCompleteWeek, shiftWeek } from '../../src/scorecard/week.ts';

describe('ISO weeks in a team time zone', () => {
  it('starts on Monday 00:00 in the zone and lasts to the next Monday', () => {
    const w = isoWeek('2026-W47', 'Europe/Berlin');
    expect([new Date(w.from).toISOString(), new Date(w.to).toISOString()]).toEqual(['2026-11-15T23:00:00.000Z', '2026-11-22T23:00:00.000Z']);
  });

  it('is 167 hours long across the spring DST change', () => {
    const w = isoWeek('2026-W13', 'Europe/Berlin');
    expect((w.to - w.from) / 3_600_000).toBe(167);
  });

  it('knows week 53 and the ISO week-year at the turn of the year', () => {
    expect(new Date(isoWeek('2026-W53', 'UTC').from).toISOString()).toBe('2026-12-28T00:00:00.000Z');
    expect(shiftWeek(isoWeek('2026-W53', 'UTC'), 1).label).toBe('2027-W01');
    expect(() => isoWeek('2025-W53', 'UTC')).toThrow('no such ISO week: "2025-W53"');
  });

  it.each(['2026-47', '2026-W7', 'W47', '2026-W47; DROP'])('refuses "%s"', (label) => {
    expect(() => isoWeek(label, 'UTC')).toThrow(`not an ISO week: "${label}" (use e.g. 2026-W47)`);
  });

  it('on Monday 09:00 in Sydney, reports the week that just ended there (still Sunday in UTC)', () => {
    const mondayInSydney = Date.parse('2026-11-22T22:00:00Z');
    expect(lastCompleteWeek(mondayInSydney, 'Australia/Sydney').label).toBe('2026-W47');
    expect(lastCompleteWeek(mondayInSydney, 'UTC').label).toBe('2026-W46');
  });
});
