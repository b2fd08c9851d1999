import { IANAZone } from 'luxon';
import { z } from 'zod';
import type { InclusiveRange, MaintenanceWindow, TimeIntervalSpec, TimeRange } from './time-interval.ts';

/**
 * `time_intervals:` in config, Alertmanager's shape and key names:
 *
 *   time_intervals:
 *     - name: billing-release
 *       time_intervals:
 *         - weekdays: ['tuesday', 'thursday']
 *           times: [{ start_time: '22:00', end_time: '24:00' }]
 *           location: Europe/Berlin
 *
 * One difference: a weekday range may wrap around the week ("friday:monday").
 */

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const CLOCK = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;

function clockMinutes(text: string): number | undefined {
  const match = CLOCK.exec(text);
  if (!match) return undefined;
  return Number(match[1] ?? match[3]) * 60 + Number(match[2] ?? match[4]);
}

const timeRange = z
  .object({ start_time: z.string(), end_time: z.string() }, { error: 'must be { start_time: "HH:MM", end_time: "HH:MM" }' })
  .strict()
  .transform((value, ctx): TimeRange => {
    const start = clockMinutes(value.start_time);
    const end = clockMinutes(value.end_time);
    if (start === undefined) ctx.addIssue({ code: 'custom', path: ['start_time'], message: `not a time of day: "${value.start_time}" (use HH:MM, 00:00 to 23:59)` });
    if (end === undefined) ctx.addIssue({ code: 'custom', path: ['end_time'], message: `not a time of day: "${value.end_time}" (use HH:MM, 00:01 to 24:00)` });
    if (start === undefined || end === undefined) return z.NEVER;
    if (start >= end) {
      ctx.addIssue({ code: 'custom', path: ['end_time'], message: 'must be after start_time (a range cannot cross midnight: split it in two)' });
      return z.NEVER;
    }
    return { startMinute: start, endMinute: end };
  });

/** "a:b" or "a", each end read by `member`, which returns a message when it cannot. */
function rangeList(what: string, member: (text: string) => number | string, check: (range: InclusiveRange, text: string) => string | undefined) {
  return z.array(z.union([z.string(), z.number()]), { error: `must be a list of ${what}s` }).transform((items, ctx) => {
    const ranges: InclusiveRange[] = [];
    items.forEach((item, i) => {
      const text = String(item).trim().toLowerCase();
      const parts = text.split(':');
      const ends = parts.length <= 2 ? parts.map(member) : [`not a ${what} or ${what} range: "${item}"`];
      const problem = ends.find((e): e is string => typeof e === 'string');
      if (problem !== undefined) {
        ctx.addIssue({ code: 'custom', path: [i], message: problem });
        return;
      }
      const range = { begin: ends[0] as number, end: (ends[1] ?? ends[0]) as number };
      const wrong = check(range, String(item));
      if (wrong) ctx.addIssue({ code: 'custom', path: [i], message: wrong });
      else ranges.push(range);
    });
    return ranges;
  });
}

const integer = (text: string) => (/^-?\d+$/.test(text) ? Number(text) : NaN);

const weekdays = rangeList(
  'weekday',
  (t) => (WEEKDAYS.includes(t) ? WEEKDAYS.indexOf(t) : `not a weekday: "${t}" (use monday … sunday)`),
  () => undefined,
);

const daysOfMonth = rangeList(
  'day of the month',
  (t) => {
    const n = integer(t);
    return Number.isNaN(n) || n === 0 || n < -31 || n > 31 ? `not a day of the month: "${t}" (use 1 … 31, or -1 for the last day)` : n;
  },
  ({ begin, end }, text) => {
    if (begin < 0 && end > 0) return `"${text}": the end must count back from the month's end too when the start does`;
    // Alertmanager's check: with a 28-day month in mind, refuse ranges that are always empty.
    const b = begin < 0 ? 28 + begin : begin;
    const e = end < 0 ? 28 + end : end;
    return b > e ? `"${text}": the end is always before the start` : undefined;
  },
);

const months = rangeList(
  'month',
  (t) => {
    if (MONTHS.includes(t)) return MONTHS.indexOf(t) + 1;
    const n = integer(t);
    return n >= 1 && n <= 12 ? n : `not a month: "${t}" (use january … december or 1 … 12)`;
  },
  ({ begin, end }, text) => (begin > end ? `"${text}": the end month is before the start month` : undefined),
);

const years = rangeList(
  'year',
  (t) => {
    const n = integer(t);
    return n >= 1 ? n : `not a year: "${t}"`;
  },
  ({ begin, end }, text) => (begin > end ? `"${text}": the end year is before the start year` : undefined),
);

const location = z
  .string({ error: 'must be an IANA time zone such as Europe/Berlin' })
  .refine((zone) => IANAZone.isValidZone(zone), { error: (issue) => `unknown time zone "${String(issue.input)}" (use an IANA name such as Europe/Berlin, or UTC)` });

const timeInterval = z
  .object({
    times: z.array(timeRange).optional(),
    weekdays: weekdays.optional(),
    days_of_month: daysOfMonth.optional(),
    months: months.optional(),
    years: years.optional(),
    location: location.default('UTC'),
  })
  .strict()
  .transform((spec): TimeIntervalSpec => {
    const out: TimeIntervalSpec = { location: spec.location };
    if (spec.times) out.times = spec.times;
    if (spec.weekdays) out.weekdays = expandWeekdays(spec.weekdays);
    if (spec.days_of_month) out.daysOfMonth = spec.days_of_month;
    if (spec.months) out.months = spec.months;
    if (spec.years) out.years = spec.years;
    return out;
  });

/** Weekday ranges as the set of days they cover, wrapping past Saturday. */
function expandWeekdays(ranges: readonly InclusiveRange[]): number[] {
  const days = new Set<number>();
  for (const { begin, end } of ranges) {
    for (let d = begin; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === end) break;
    }
  }
  return [...days].sort((a, b) => a - b);
}

export const timeIntervalsSchema = z.array(
  z
    .object({
      name: z.string().min(1, 'must not be empty'),
      time_intervals: z.array(timeInterval).min(1, 'at least one interval is needed'),
    })
    .strict()
    .transform((w): MaintenanceWindow => ({ name: w.name, intervals: w.time_intervals })),
  { error: 'must be a list of named time intervals' },
);
