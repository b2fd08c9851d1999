import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { timeIntervalsSchema } from '../../src/alerts/time-intervals/config.ts';
import { activeWindows, isInMaintenance, windowActive } from '../../src/alerts/time-intervals/time-interval.ts';

interface Fixture {
  time_intervals: unknown;
  cases: { name: string; window: string; checks: [string, boolean, string][] }[];
}

const fixture = parse(readFileSync(new URL('../fixtures/alerts/time-intervals.yaml', import.meta.url), 'utf8')) as Fixture;
const windows = timeIntervalsSchema.parse(fixture.time_intervals);

describe('maintenance windows', () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const window = windows.find((w) => w.name === c.window)!;
    const seen = c.checks.map(([at, , local]) => [at, windowActive(window, Date.parse(at)), local]);
    expect(seen).toEqual(c.checks);
  });

  it('names the windows active at an instant, and says whether any is', () => {
    // Tuesday 31 March 2026, 22:30 in Berlin (CEST): a release night, a month end, day 31.
    const at = Date.parse('2026-03-31T20:30:00Z');
    expect(activeWindows(windows, at)).toEqual(['billing-release', 'month-end', 'days-29-to-31']);
    expect(isInMaintenance(windows, at)).toBe(true);
    expect(isInMaintenance(windows.filter((w) => w.name === 'q4-2026'), at)).toBe(false);
    expect(isInMaintenance([], at)).toBe(false);
  });

  it('reads weekdays and months in any case and keeps AM\'s ranges as data', () => {
    const [window] = timeIntervalsSchema.parse([
      { name: 'w', time_intervals: [{ weekdays: ['Saturday:Sunday', 'wednesday'], months: ['March', '5:6'], days_of_month: ['1:7', '-1'], times: [{ start_time: '00:00', end_time: '24:00' }] }] },
    ]);
    expect(window).toEqual({
      name: 'w',
      intervals: [
        {
          location: 'UTC',
          weekdays: [0, 3, 6],
          months: [{ begin: 3, end: 3 }, { begin: 5, end: 6 }],
          daysOfMonth: [{ begin: 1, end: 7 }, { begin: -1, end: -1 }],
          times: [{ startMinute: 0, endMinute: 1440 }],
        },
      ],
    });
  });
});
