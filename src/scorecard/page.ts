import { composeScorecard } from './compose.ts';
import type { ScorecardConfig } from './config.ts';
import { teamTimeZone } from './config.ts';
import { gatherScorecard, owningTeams, type ScorecardSources } from './gather.ts';
import { WeekError } from './week.ts';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const message = (text: string) => `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>seamwatch scorecard</title></head><body><p>${escape(text)}</p></body></html>`;

/** The scorecard as a web page (charts as data: URIs): what /scorecards/<week>/<team> serves. */
export function scorecardPage(sources: ScorecardSources, config: ScorecardConfig | undefined, now: () => number = Date.now) {
  return async (week: string, team: string): Promise<{ status: number; html: string }> => {
    const teams = owningTeams(sources);
    if (!teams.includes(team)) return { status: 404, html: message(`no workflow or SLO is owned by "${team}" (teams: ${teams.join(', ')})`) };
    try {
      const data = await gatherScorecard(sources, team, week, teamTimeZone(config, team), now());
      return { status: 200, html: (await composeScorecard(data, 'data-uri')).html };
    } catch (error) {
      if (error instanceof WeekError) return { status: 400, html: message(error.message) };
      throw error;
    }
  };
}
