import { describe, expect, it } from 'vitest';
import type { SloWindow } from '../../src/slo/types.ts';
import { periodMs, windowStart } from '../../src/slo/window.ts';

const t = (iso: string) => Date.parse(iso);
const DAY = 86_400_000;

describe('windowStart', () => {
  it.each<[string, SloWindow, string, string]>([
    ['rolling 28d: 28 days back', { kind: 'rolling', durationMs: 28 * DAY }, '2024-03-10T12:00:00.000Z', '2024-02-11T12:00:00.000Z'],
    ['rolling 1h', { kind: 'rolling', durationMs: 3_600_000 }, '2024-03-10T00:30:00.000Z', '2024-03-09T23:30:00.000Z'],

    // Europe/Berlin: CET (+1) until 2024-03-31 01:00Z, CEST (+2) until 2024-10-27 01:00Z.
    ['month in Berlin, summer: 1 April 00:00 CEST', { kind: 'calendar', unit: 'month', timeZone: 'Europe/Berlin' }, '2024-04-15T12:00:00.000Z', '2024-03-31T22:00:00.000Z'],
    ['month in Berlin, last instant of March (CEST already): 1 March 00:00 CET', { kind: 'calendar', unit: 'month', timeZone: 'Europe/Berlin' }, '2024-03-31T21:59:59.999Z', '2024-02-29T23:00:00.000Z'],
    ['month in Berlin, first instant of April', { kind: 'calendar', unit: 'month', timeZone: 'Europe/Berlin' }, '2024-03-31T22:00:00.000Z', '2024-03-31T22:00:00.000Z'],
    ['month in Berlin, end of October (CET again): 1 October 00:00 CEST', { kind: 'calendar', unit: 'month', timeZone: 'Europe/Berlin' }, '2024-10-31T22:59:59.999Z', '2024-09-30T22:00:00.000Z'],
    ['month in Berlin, first instant of November', { kind: 'calendar', unit: 'month', timeZone: 'Europe/Berlin' }, '2024-10-31T23:00:00.000Z', '2024-10-31T23:00:00.000Z'],
    ['month in UTC, leap February', { kind: 'calendar', unit: 'month', timeZone: 'UTC' }, '2024-02-29T23:59:59.999Z', '2024-02-01T00:00:00.000Z'],
    ['month in Asia/Kolkata (+05:30)', { kind: 'calendar', unit: 'month', timeZone: 'Asia/Kolkata' }, '2024-02-10T00:00:00.000Z', '2024-01-31T18:30:00.000Z'],
    // Paraguay moved its clocks from 00:00 to 01:00 on Sunday 1 October 2017: that day began at 01:00 −03.
    ['month in America/Asuncion whose 1st began at 01:00 (DST at midnight)', { kind: 'calendar', unit: 'month', timeZone: 'America/Asuncion' }, '2017-10-15T12:00:00.000Z', '2017-10-01T04:00:00.000Z'],

    ['ISO week in UTC, Sunday night: the Monday before', { kind: 'calendar', unit: 'week', timeZone: 'UTC' }, '2024-01-07T23:59:59.999Z', '2024-01-01T00:00:00.000Z'],
    ['ISO week in UTC, Monday 00:00 starts its own week', { kind: 'calendar', unit: 'week', timeZone: 'UTC' }, '2024-01-08T00:00:00.000Z', '2024-01-08T00:00:00.000Z'],
    ['ISO week across a year end', { kind: 'calendar', unit: 'week', timeZone: 'UTC' }, '2025-01-01T10:00:00.000Z', '2024-12-30T00:00:00.000Z'],
    ['ISO week in Berlin across the spring DST change: Monday 00:00 CET', { kind: 'calendar', unit: 'week', timeZone: 'Europe/Berlin' }, '2024-03-31T20:00:00.000Z', '2024-03-24T23:00:00.000Z'],
    ['ISO week in Berlin, the Monday after: 00:00 CEST', { kind: 'calendar', unit: 'week', timeZone: 'Europe/Berlin' }, '2024-03-31T22:30:00.000Z', '2024-03-31T22:00:00.000Z'],
    ['ISO week in Auckland (+13 in January): Monday local is Sunday UTC', { kind: 'calendar', unit: 'week', timeZone: 'Pacific/Auckland' }, '2024-01-10T00:00:00.000Z', '2024-01-07T11:00:00.000Z'],

    ['quarter in New York: 1 April 00:00 EDT', { kind: 'calendar', unit: 'quarter', timeZone: 'America/New_York' }, '2024-05-15T12:00:00.000Z', '2024-04-01T04:00:00.000Z'],
    ['quarter in New York, 31 March 23:59 EDT: 1 January 00:00 EST', { kind: 'calendar', unit: 'quarter', timeZone: 'America/New_York' }, '2024-04-01T03:59:59.999Z', '2024-01-01T05:00:00.000Z'],
    ['quarter in Berlin, December: 1 October 00:00 CEST', { kind: 'calendar', unit: 'quarter', timeZone: 'Europe/Berlin' }, '2024-12-01T00:00:00.000Z', '2024-09-30T22:00:00.000Z'],
    ['quarter in UTC, the first instant of July', { kind: 'calendar', unit: 'quarter', timeZone: 'UTC' }, '2024-07-01T00:00:00.000Z', '2024-07-01T00:00:00.000Z'],
  ])('%s', (_label, window, at, start) => {
    expect(new Date(windowStart(window, t(at))).toISOString()).toBe(start);
  });
});

describe('periodMs', () => {
  it.each<[SloWindow, number]>([
    [{ kind: 'rolling', durationMs: 28 * DAY }, 2_419_200_000],
    [{ kind: 'calendar', unit: 'week', timeZone: 'UTC' }, 604_800_000],
    [{ kind: 'calendar', unit: 'month', timeZone: 'Europe/Berlin' }, 2_592_000_000],
    [{ kind: 'calendar', unit: 'quarter', timeZone: 'UTC' }, 7_776_000_000],
  ])('%j is %d ms (calendar periods are nominal: 7d, 30d, 90d)', (window, ms) => {
    expect(periodMs(window)).toBe(ms);
  });
});
