import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/domain/duration.ts';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['0ms', 0],
    ['30s', 30_000],
    ['5m', 300_000],
    ['4h', 14_400_000],
    ['35d', 3_024_000_000],
    ['1w', 604_800_000],
    ['1.5m', 90_000],
    ['0.5s', 500],
    ['1.5ms', 2],
    ['  10s  ', 10_000],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    '',
    '5',
    '5 m',
    '5min',
    '-1s',
    '+1s',
    '1e3ms',
    '.5s',
    '5M',
    '1h30m',
    'soon',
  ])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [1, '1ms'],
    [999, '999ms'],
    [1_000, '1s'],
    [90_000, '90s'],
    [300_000, '5m'],
    [3_600_000, '1h'],
    [86_400_000, '1d'],
    [604_800_000, '1w'],
    [1_209_600_000, '2w'],
    [691_200_000, '8d'],
    [1_500, '1500ms'],
  ])('writes %d ms as %j, the largest whole unit', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each(['500ms', '30s', '5m', '4h', '6d', '2w'])('round-trips %j through parse and format', (text) => {
    expect(formatDuration(parseDuration(text)!)).toBe(text);
  });
});
