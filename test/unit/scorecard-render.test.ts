import { describe, expect, it } from 'vitest';
import { composeScorecard } from '../../src/scorecard/compose.ts';
import { scorecardView } from '../../src/scorecard/model.ts';
import { renderHtml, renderText } from '../../src/scorecard/render.ts';
import { emptyWeekData, HOSTILE, weekData } from '../support/scorecard-data.ts';

describe('scorecard content', () => {
  it('opens with three lines written from the numbers: promises kept, what hurt, what got worse', () => {
    expect(scorecardView(weekData()).summary).toEqual([
      '1 of 2 SLO promises kept; missed: upgrade-sync-5m at 99.70 % against 99.90 %.',
      'What hurt: 12 runs failed at plan-upgrade/entitlement-activated (permanent card_declined); 3 business alerts, 2 paged; 4 dead letters.',
      'Getting worse: upgrade-sync-5m -0.30 pts; 1000 runs (+5 % on last week).',
    ]);
  });

  it('gives each SLO its attainment, the arrow and delta against last week, and the budget left', () => {
    const [sync, success] = scorecardView(weekData()).slos;
    expect([sync!.attainment, sync!.met, sync!.arrow, sync!.delta, sync!.budgetLeft]).toEqual(['99.70 %', 'missed', '▼', '-0.30 pts', '-625.0 %']);
    expect([success!.attainment, success!.met, success!.arrow, success!.delta, success!.budgetLeft]).toEqual(['99.30 %', 'met', '▲', '+0.20 pts', '25.0 %']);
    expect(sync!.trend).toHaveLength(8);
    expect(sync!.trend.at(-1)).toEqual({ week: '2026-W47', sli: 0.997 });
    expect(success!.trendText).toBe('W40 99.20 % · W41 99.10 % · W42 99.40 % · W43 99.30 % · W44 99.50 % · W45 99.20 % · W46 99.10 % · W47 99.30 %');
  });

  it('flags a silence active for weeks, and counts pages, auto-resolves and time to resolve', () => {
    const view = scorecardView(weekData());
    expect(view.silences.map((s) => [s.createdBy, s.ageDays, s.forgotten])).toEqual([['alice', 27, true]]);
    expect(view.incidentTotals).toEqual({ alerts: 3, paged: 2, autoResolved: 2, medianResolve: '10m', longestResolve: '30m' });
    expect(view.incidents.map((g) => [g.title, g.count])).toEqual([['Duplicates detected', 1], ['Stuck items', 1], ['Partial failures', 1]]);
  });

  it('says in one line that a week had nothing to report, instead of sending empty tables', async () => {
    const composed = await composeScorecard(emptyWeekData(), 'cid');
    expect(composed.view.empty).toBe(true);
    expect(composed.subject).toBe('[seamwatch] billing-platform reliability 2026-W47: nothing to report');
    expect(composed.text.trim().split('\n').filter((l) => l.trim() !== '')).toEqual([
      'billing-platform reliability scorecard, 2026-W47 (16 Nov – 22 Nov 2026, Europe/Berlin)',
      'Nothing to report for billing-platform in 2026-W47: no runs, no SLO counts, no alerts, no dead letters, no silences.',
      'Made by seamwatch at 2026-11-23 09:00 GMT+1.',
    ]);
    expect(composed.html).not.toContain('<table width="100%" cellpadding="6"');
    expect(composed.charts).toEqual([]);
  });

  it('has the same numbers in the text as in the HTML', async () => {
    const { html, text } = await composeScorecard(weekData(), 'cid');
    expect(text).toContain(`  last 8 weeks: ${scorecardView(weekData()).slos[1]!.trendText}`);
    expect(html).toContain(`alt="upgrade-success, last 8 weeks: W40 99.20 %`);
    for (const figure of ['99.70 %', '-0.30 pts', '-625.0 %', '1000', '950', '21s', '48s', '340s', 'card_declined', 'c-up-1005', 'mapping-failed']) {
      expect(text).toContain(figure);
      expect(html).toContain(figure);
    }
  });
});

describe('scorecard rendering with hostile event data', () => {
  it('renders HTML, scripts and attributes from events as inert text', async () => {
    const { html } = await composeScorecard(weekData(true), 'cid');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html.match(/<img /g)).toHaveLength(2);
  });

  it('clips very long ids and drops line breaks and bidi overrides from event strings, in HTML and text', async () => {
    const { html, text } = await composeScorecard(weekData(true), 'cid');
    for (const body of [html, text]) {
      expect(body).not.toContain('9'.repeat(2_000));
      expect(body).not.toContain('\u202E');
      expect(body).not.toContain('\r\nBcc:');
      expect(body).toContain('card_declined  Bcc: victim@example.com');
    }
    expect(text.split('\n').some((line) => line.startsWith('Bcc:'))).toBe(false);
  });
});

describe('scorecard templates are strict', () => {
  it('fails the render when the view lacks a field, rather than mailing a blank', () => {
    const view = scorecardView(weekData());
    const { generatedAt: _dropped, ...withoutTime } = view;
    expect(() => renderText(withoutTime as typeof view)).toThrow(/"generatedAt" not defined/);
    expect(() => renderHtml(withoutTime as typeof view, ['', ''])).toThrow(/"generatedAt" not defined/);
  });
});
