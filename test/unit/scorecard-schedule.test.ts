import { describe, expect, it } from 'vitest';
import { scorecardSchema } from '../../src/scorecard/config.ts';
import { nextSendAt } from '../../src/scorecard/sender.ts';

const config = scorecardSchema.parse({
  timeZone: 'UTC',
  teams: [
    { team: 'billing-platform', to: ['a@example.com'], timeZone: 'Europe/Berlin' },
    { team: 'apac', to: ['b@example.com'], timeZone: 'Australia/Sydney' },
    { team: 'support-ops', to: ['c@example.com'] },
  ],
});

describe('the scorecard schedule, in each team\'s time zone', () => {
  it.each([
    ['billing-platform', '2026-11-23T08:00:00.000Z'],
    ['apac', '2026-11-22T22:00:00.000Z'],
    ['support-ops', '2026-11-23T09:00:00.000Z'],
  ])('%s gets it on Monday 09:00 local time (%s)', (team, expected) => {
    expect(new Date(nextSendAt(config, team, Date.parse('2026-11-21T12:00:00Z'))!).toISOString()).toBe(expected);
  });

  it('follows the summer time change: 09:00 Berlin is 07:00 UTC in summer', () => {
    expect(new Date(nextSendAt(config, 'billing-platform', Date.parse('2026-06-10T00:00:00Z'))!).toISOString()).toBe('2026-06-15T07:00:00.000Z');
  });
});
