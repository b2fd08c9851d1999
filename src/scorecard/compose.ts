import { trendPng } from './chart.ts';
import { scorecardView, type ScorecardData, type ScorecardView } from './model.ts';
import { renderHtml, renderText, subject } from './render.ts';

/** A rendered scorecard: the two bodies and the inline charts they reference. */
export interface ComposedScorecard {
  view: ScorecardView;
  subject: string;
  html: string;
  text: string;
  /** PNG charts, each referenced from the HTML as cid:<cid>. */
  charts: { cid: string; filename: string; png: Buffer }[];
}

/**
 * Renders a team's week. `inline` charts are referenced by Content-ID (mail); otherwise they are
 * embedded as data: URIs (the web page, a file written by the CLI).
 */
export async function composeScorecard(data: ScorecardData, charts: 'cid' | 'data-uri'): Promise<ComposedScorecard> {
  const view = scorecardView(data);
  const pngs = await Promise.all(view.slos.map((s, i) => trendPng(s.trend, data.slos[i]!.slo.objective)));
  const srcs = view.slos.map((s, i) => (charts === 'cid' ? `cid:${s.chartCid}` : `data:image/png;base64,${pngs[i]!.toString('base64')}`));
  return {
    view,
    subject: subject(view),
    html: renderHtml(view, srcs),
    text: renderText(view),
    charts: view.empty ? [] : view.slos.map((s, i) => ({ cid: s.chartCid, filename: `${s.name}-trend.png`, png: pngs[i]! })),
  };
}
