import { DateTime } from 'luxon';

/**
 * Recurring time intervals (Alertmanager's `time_intervals`), used as maintenance windows:
 * a route with `mute_time_intervals` notifies nobody while one of them is active.
 *
 * Everything is read on the wall clock of the interval's location, so "Tuesdays 22:00–24:00
 * Europe/Berlin" follows the clock through DST: on the night clocks spring forward, an
 * interval 02:00–03:00 does not occur at all (the clock never shows it); on the night they fall
 * back it lasts two real hours (the clock shows it twice).
 */

/** Minutes of the day, end exclusive: 22:00–24:00 is 1320–1440. A range never crosses midnight. */
export interface TimeRange {
  startMinute: number;
  endMinute: number;
}

/** Inclusive; days of the month may count back from the month's end (-1 is the last day). */
export interface InclusiveRange {
  begin: number;
  end: number;
}

/** Every field present must match (within a field, any entry); an absent field matches anything. */
export interface TimeIntervalSpec {
  times?: readonly TimeRange[];
  /** 0 = Sunday … 6 = Saturday. */
  weekdays?: readonly number[];
  daysOfMonth?: readonly InclusiveRange[];
  /** 1 = January. */
  months?: readonly InclusiveRange[];
  years?: readonly InclusiveRange[];
  /** IANA time zone; "UTC" unless configured. */
  location: string;
}

/** A named recurring window: active while any of its intervals contains the instant. */
export interface MaintenanceWindow {
  name: string;
  intervals: readonly TimeIntervalSpec[];
}

const within = (value: number, ranges: readonly InclusiveRange[]) => ranges.some((r) => value >= r.begin && value <= r.end);

function dayOfMonthMatches(day: number, daysInMonth: number, ranges: readonly InclusiveRange[]): boolean {
  return ranges.some((r) => {
    const begin = r.begin < 0 ? daysInMonth + r.begin + 1 : r.begin;
    const end = r.end < 0 ? daysInMonth + r.end + 1 : r.end;
    // "29:31" in February: nothing; "-31:-1" in February: the whole month.
    if (begin > daysInMonth) return false;
    return day >= Math.max(begin, 1) && day <= Math.min(end, daysInMonth);
  });
}

/** Alertmanager's ContainsTime, on the wall clock of `spec.location`. */
export function intervalContains(spec: TimeIntervalSpec, at: number): boolean {
  const local = DateTime.fromMillis(at, { zone: spec.location });
  if (!local.isValid) return false;
  if (spec.times) {
    const minute = local.hour * 60 + local.minute;
    if (!spec.times.some((t) => minute >= t.startMinute && minute < t.endMinute)) return false;
  }
  if (spec.daysOfMonth && !dayOfMonthMatches(local.day, local.daysInMonth!, spec.daysOfMonth)) return false;
  if (spec.months && !within(local.month, spec.months)) return false;
  // luxon counts Monday 1 … Sunday 7; Alertmanager Sunday 0 … Saturday 6.
  if (spec.weekdays && !spec.weekdays.includes(local.weekday % 7)) return false;
  if (spec.years && !within(local.year, spec.years)) return false;
  return true;
}

export function windowActive(window: MaintenanceWindow, at: number): boolean {
  return window.intervals.some((interval) => intervalContains(interval, at));
}

/** True when any of the windows is active at `now`. */
export function isInMaintenance(windows: readonly MaintenanceWindow[], now: number): boolean {
  return windows.some((w) => windowActive(w, now));
}

/** The names of the windows active at `now`, for the API and logs. */
export function activeWindows(windows: readonly MaintenanceWindow[], now: number): string[] {
  return windows.filter((w) => windowActive(w, now)).map((w) => w.name);
}
