import { DateTime } from 'luxon';

/** An ISO week in a time zone: [from, to) in epoch ms, Monday 00:00 to the next Monday 00:00. */
export interface IsoWeek {
  label: string;
  timeZone: string;
  from: number;
  to: number;
}

const LABEL = /^(\d{4})-W(\d{2})$/;

export class WeekError extends Error {}

export function isoWeek(label: string, timeZone: string): IsoWeek {
  const m = LABEL.exec(label);
  if (!m) throw new WeekError(`not an ISO week: "${label}" (use e.g. 2026-W47)`);
  const start = DateTime.fromObject({ weekYear: Number(m[1]), weekNumber: Number(m[2]), weekday: 1 }, { zone: timeZone }).startOf('day');
  if (!start.isValid || start.toFormat("kkkk-'W'WW") !== label) throw new WeekError(`no such ISO week: "${label}"`);
  return { label, timeZone, from: start.toMillis(), to: start.plus({ weeks: 1 }).toMillis() };
}

/** The week `n` weeks after (negative: before) this one. */
export function shiftWeek(week: IsoWeek, n: number): IsoWeek {
  const start = DateTime.fromMillis(week.from, { zone: week.timeZone }).plus({ weeks: n });
  return isoWeek(start.toFormat("kkkk-'W'WW"), week.timeZone);
}

/** The last complete week before `now`, in the zone: what a Monday-morning report is about. */
export function lastCompleteWeek(now: number, timeZone: string): IsoWeek {
  const label = DateTime.fromMillis(now, { zone: timeZone }).minus({ weeks: 1 }).toFormat("kkkk-'W'WW");
  return isoWeek(label, timeZone);
}

export function describeWeek(week: IsoWeek): string {
  const from = DateTime.fromMillis(week.from, { zone: week.timeZone });
  const last = DateTime.fromMillis(week.to, { zone: week.timeZone }).minus({ days: 1 });
  return `${week.label} (${from.toFormat('d LLL')} – ${last.toFormat('d LLL yyyy')}, ${week.timeZone})`;
}
