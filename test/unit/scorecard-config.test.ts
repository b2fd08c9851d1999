import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../../src/config/load.ts';

const MINIMAL = readFileSync(fileURLToPath(new URL('../fixtures/config/good-minimal.yaml', import.meta.url)), 'utf8');

function problemsOf(text: string): string[] {
  try {
    parseConfigText(text, 'test.yaml', {});
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('the configuration was accepted');
}

describe('the scorecard: section', () => {
  it('defaults to Monday 09:00 in UTC, with a one-hour claim lease', () => {
    const config = parseConfigText(`${MINIMAL}\nscorecard:\n  smtp: { host: mail.example.com }\n  teams: [{ team: billing-platform, to: [lead@example.com] }]\n`, 'test.yaml', {});
    expect(config.scorecard).toMatchObject({ schedule: '0 9 * * 1', timeZone: 'UTC', claimLease: 3_600_000, smtp: { host: 'mail.example.com', port: 587, secure: false, passwordEnv: 'SEAMWATCH_SMTP_PASSWORD' } });
  });

  it('refuses a bad schedule, time zone, address, duplicate team and a retry longer than the lease, each with its key path', () => {
    const problems = problemsOf(`${MINIMAL}
scorecard:
  schedule: "every monday"
  timeZone: Mars/Olympus
  claimLease: 10m
  retryFor: 1h
  smtp: { host: mail.example.com, port: 0, passwordEnv: "not-a-name" }
  teams:
    - { team: billing-platform, to: [not-an-address], timeZone: Europe/Berlin }
    - { team: billing-platform, to: [lead@example.com] }
`);
    expect(problems.join('\n')).toMatch(/scorecard\.schedule: not a cron expression/);
    expect(problems).toContain('scorecard.timeZone: not an IANA time zone (e.g. Europe/Berlin)');
    expect(problems.some((p) => p.startsWith('scorecard.smtp.port:'))).toBe(true);
    expect(problems).toContain('scorecard.smtp.passwordEnv: must be an environment variable name');
    expect(problems.some((p) => p.startsWith('scorecard.teams[0].to[0]:'))).toBe(true);
    expect(problems).toContain('scorecard.teams[1].team: team "billing-platform" is listed twice');
  });

  it('refuses a retry window as long as the claim lease, which could send twice', () => {
    expect(problemsOf(`${MINIMAL}\nscorecard: { claimLease: 10m, retryFor: 10m }\n`)).toContain(
      'scorecard.retryFor: must be shorter than claimLease, or a slow retry could be taken over and sent twice',
    );
  });
});
