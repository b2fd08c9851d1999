import { DateTime } from 'luxon';
import type { SloWindow } from './types.ts';

const DAY = 86_400_000;

/** Nominal length of one calendar period: what burn-rate factors and window checks scale with. */
const NOMINAL_MS: Record<Extract<SloWindow, { kind: 'calendar' }>['unit'], number> = {
  week: 7 * DAY,
  month: 30 * DAY,
  quarter: 90 * DAY,
};

/**
 * Where the SLO window that is current at `at` (epoch ms) begins; the window is
 * [windowStart, at). Rolling: `at` minus the duration. Calendar: 00:00 on the Monday of the
 * ISO week, on the 1st of the month, or on the 1st of January, April, July or October, in the
 * window's time zone. luxon resolves the local midnight to an instant, so a DST change, also
 * one at midnight, moves the start to the first instant that day has.
 */
export function windowStart(window: SloWindow, at: number): number {
  if (window.kind === 'rolling') return at - window.durationMs;
  return DateTime.fromMillis(at, { zone: window.timeZone }).startOf(window.unit).toMillis();
}

/** The SLO period in ms: a rolling window's duration, a calendar unit's nominal length (7d, 30d, 90d). */
export function periodMs(window: SloWindow): number {
  return window.kind === 'rolling' ? window.durationMs : NOMINAL_MS[window.unit];
}
