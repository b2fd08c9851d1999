import { writeFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { scorecardSourcesOf } from '../app.ts';
import type { SeamwatchConfig } from '../config/schema.ts';
import type { ClickHouseStore } from '../store/clickhouse/clickhouse-store.ts';
import { composeScorecard } from '../scorecard/compose.ts';
import { teamTimeZone } from '../scorecard/config.ts';
import { gatherScorecard, owningTeams } from '../scorecard/gather.ts';
import { smtpTransport } from '../scorecard/mail.ts';
import { ScorecardSender } from '../scorecard/sender.ts';
import { isoWeek } from '../scorecard/week.ts';
import type { Logger } from 'pino';

export interface ScorecardCommand {
  week: string;
  team?: string;
  out?: string;
  send?: boolean;
}

/** `seamwatch scorecard`: prints the text body, writes the HTML page, or sends the mail (through the claim). Returns the exit code. */
export async function runScorecard(config: SeamwatchConfig, store: ClickHouseStore, options: ScorecardCommand, logger: Logger, print: (s: string) => void, fail: (s: string) => void): Promise<number> {
  const sources = scorecardSourcesOf(config, store);
  const teams = owningTeams(sources);
  if (options.team !== undefined && !teams.includes(options.team)) {
    fail(`--team: no workflow or SLO is owned by "${options.team}" (teams: ${teams.join(', ')})`);
    return 2;
  }
  const chosen = options.team !== undefined ? [options.team] : teams;
  isoWeek(options.week, 'UTC');
  if (options.send) {
    const sc = config.scorecard;
    if (!sc?.smtp) {
      fail('--send: the config has no scorecard.smtp section');
      return 2;
    }
    const unlisted = chosen.filter((t) => !sc.teams.some((c) => c.team === t));
    if (options.team !== undefined && unlisted.length > 0) {
      fail(`--send: scorecard.teams lists no recipients for "${options.team}"`);
      return 2;
    }
    const sender = new ScorecardSender({ config: sc, sources, transport: smtpTransport(sc.smtp), registry: new Registry(), logger });
    let code = 0;
    try {
      for (const team of chosen.filter((t) => sc.teams.some((c) => c.team === t))) {
        const outcome = await sender.send(team, options.week);
        print(`${team} ${options.week}: ${outcome}`);
        if (outcome === 'failed') code = 1;
      }
    } finally {
      await sender.shutdown();
    }
    return code;
  }
  if (options.out !== undefined && chosen.length !== 1) {
    fail('--out: name one --team (one page per file)');
    return 2;
  }
  for (const team of chosen) {
    const data = await gatherScorecard(sources, team, options.week, teamTimeZone(config.scorecard, team), Date.now());
    const composed = await composeScorecard(data, 'data-uri');
    if (options.out !== undefined) {
      writeFileSync(options.out, composed.html);
      print(`${options.out}: ${team} ${options.week}`);
    } else print(composed.text);
  }
  return 0;
}
