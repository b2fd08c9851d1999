import { DateTime } from 'luxon';
import type { Counts } from '../domain/slo-counts.ts';
import type { DeadLetterCount, FailureMode, StepLatency, WorkflowRunStats } from '../domain/week-stats.ts';
import { formatDuration } from '../domain/duration.ts';
import { budgetStatus } from '../slo/budget.ts';
import type { SloDefinition } from '../slo/types.ts';
import type { IncidentAlert, IncidentKind, WeekIncidents } from './incidents.ts';
import { describeWeek, type IsoWeek } from './week.ts';

/** Everything one team's scorecard is made of, as read from the store: the input of `scorecardView`. */
export interface ScorecardData {
  team: string;
  week: IsoWeek;
  /** Wall clock when it was made (silence ages). */
  at: number;
  slos: { slo: SloDefinition; weeks: { label: string; counts: Counts }[]; windowCounts: Counts }[];
  runs: WorkflowRunStats[];
  previousRuns: WorkflowRunStats[];
  slowSteps: StepLatency[];
  failures: FailureMode[];
  deadLetters: (DeadLetterCount & { source: string })[];
  incidents: WeekIncidents;
  traceUrlBase: string;
}

const pct = (v: number | null, digits = 2) => (v === null ? '–' : `${(v * 100).toFixed(digits)} %`);
/** Latencies as the scorecard writes them (tests format expected figures with it too). */
export const formatLatency = (v: number | null) => (v === null ? '–' : v < 1000 ? `${v} ms` : formatDuration(Math.round(v / 1000) * 1000));
const when = (t: number, zone: string) => DateTime.fromMillis(t, { zone }).toFormat('ccc d LLL HH:mm');
const DAY = 86_400_000;

const KIND_TITLES: Record<IncidentKind, string> = {
  duplicate: 'Duplicates detected',
  stuck: 'Stuck items',
  'missed-deadline': 'Deadline misses',
  'partial-failure': 'Partial failures',
  other: 'Other alerts',
};

function sloRow(entry: ScorecardData['slos'][number]) {
  const { slo, weeks } = entry;
  const sli = (c: Counts) => (c.total === 0 ? null : c.good / c.total);
  const now = weeks.at(-1)!.counts;
  const before = weeks.at(-2)?.counts ?? { good: 0, total: 0 };
  const current = sli(now);
  const previous = sli(before);
  const delta = current !== null && previous !== null ? (current - previous) * 100 : null;
  const budget = budgetStatus(slo.objective, entry.windowCounts);
  const met = current === null ? null : current >= slo.objective;
  return {
    name: slo.name,
    workflow: slo.workflow,
    objective: pct(slo.objective, 2),
    attainment: pct(current, 2),
    met: met === null ? 'no runs' : met ? 'met' : 'missed',
    metClass: met === null ? 'none' : met ? 'good' : 'bad',
    runs: now.total,
    bad: now.total - now.good,
    arrow: delta === null ? '·' : delta > 0.005 ? '▲' : delta < -0.005 ? '▼' : '=',
    arrowText: delta === null ? 'no comparison' : delta > 0.005 ? 'up' : delta < -0.005 ? 'down' : 'flat',
    delta: delta === null ? '–' : `${delta >= 0 ? '+' : ''}${delta.toFixed(2)} pts`,
    deltaValue: delta,
    budgetLeft: entry.windowCounts.total === 0 ? '–' : pct(budget.remainingRatio, 1),
    budgetClass: budget.remainingRatio < 0 ? 'bad' : budget.remainingRatio < 0.25 ? 'warn' : 'good',
    chartCid: `trend-${slo.name}@seamwatch`,
    trend: weeks.map((w) => ({ week: w.label, sli: sli(w.counts) })),
    /** The chart's numbers in words: for the text part, and for readers whose client blocks images. */
    trendText: weeks.map((w) => `${w.label.slice(5)} ${pct(sli(w.counts))}`).join(' · '),
    current,
  };
}

function incidentGroups(alerts: readonly IncidentAlert[], zone: string, traceUrlBase: string) {
  const order: IncidentKind[] = ['duplicate', 'stuck', 'missed-deadline', 'partial-failure', 'other'];
  return order
    .map((kind) => {
      // Still firing first, oldest first: the item waiting longest is the one to look at.
      const list = alerts.filter((a) => a.kind === kind).sort((a, b) => Number(a.endsAt !== 0) - Number(b.endsAt !== 0) || a.startsAt - b.startsAt);
      return {
        title: KIND_TITLES[kind],
        count: list.length,
        items: list.slice(0, 10).map((a) => ({
          detector: a.detector,
          workflow: a.workflow,
          summary: a.summary,
          correlationId: a.correlationId,
          traceUrl: a.correlationId ? `${traceUrlBase}${encodeURIComponent(a.correlationId)}` : '',
          since: when(a.startsAt, zone),
          state: a.endsAt === 0 ? 'still firing' : `resolved ${when(a.endsAt, zone)}`,
        })),
        more: Math.max(0, list.length - 10),
      };
    })
    .filter((g) => g.count > 0);
}

/** The three lines at the top, written from the numbers. */
export interface SummaryInput {
  slos: ReturnType<typeof sloRow>[];
  totals: { runs: number; previousRuns: number };
  topFailure: FailureMode | undefined;
  incidentTotals: { alerts: number; paged: number };
  deadLetterTotal: number;
}

export function summaryLines(view: SummaryInput): string[] {
  const lines: string[] = [];
  const judged = view.slos.filter((s) => s.metClass !== 'none');
  const missed = judged.filter((s) => s.metClass === 'bad');
  if (judged.length === 0) lines.push('No SLO counted any run this week.');
  else if (missed.length === 0) lines.push(`All ${judged.length} SLO promises kept.`);
  else lines.push(`${judged.length - missed.length} of ${judged.length} SLO promises kept; missed: ${missed.map((s) => `${s.name} at ${s.attainment} against ${s.objective}`).join('; ')}.`);
  const hurt: string[] = [];
  if (view.topFailure) hurt.push(`${view.topFailure.count} runs failed at ${view.topFailure.workflow}/${view.topFailure.step} (${view.topFailure.errorClass || 'unclassified'} ${view.topFailure.errorCode || 'no code'})`);
  if (view.incidentTotals.alerts > 0) hurt.push(`${view.incidentTotals.alerts} business alerts, ${view.incidentTotals.paged} paged`);
  if (view.deadLetterTotal > 0) hurt.push(`${view.deadLetterTotal} dead letters`);
  lines.push(hurt.length > 0 ? `What hurt: ${hurt.join('; ')}.` : 'Nothing failed: no failed steps, business alerts or dead letters.');
  const worse = view.slos.filter((s) => s.deltaValue !== null && s.deltaValue < -0.005).sort((a, b) => a.deltaValue! - b.deltaValue!);
  const runsChange = view.totals.previousRuns === 0 ? null : (view.totals.runs - view.totals.previousRuns) / view.totals.previousRuns;
  const volume = `${view.totals.runs} runs${runsChange === null ? '' : ` (${runsChange >= 0 ? '+' : ''}${(runsChange * 100).toFixed(0)} % on last week)`}`;
  lines.push(worse.length > 0 ? `Getting worse: ${worse.map((s) => `${s.name} ${s.delta}`).join(', ')}; ${volume}.` : `Nothing got worse than last week; ${volume}.`);
  return lines;
}

/** The scorecard as the templates read it: every number formatted, every list in order. */
export function scorecardView(data: ScorecardData) {
  const zone = data.week.timeZone;
  const slos = data.slos.map(sloRow);
  const previous = new Map(data.previousRuns.map((r) => [r.workflow, r.runs]));
  const runs = data.runs.map((r) => ({
    workflow: r.workflow,
    runs: r.runs,
    previous: previous.get(r.workflow) ?? 0,
    completed: r.completed,
    failed: r.failed,
    deadlineMissed: r.deadlineMissed,
    compensated: r.compensated,
    open: r.open,
    p50: formatLatency(r.p50Ms),
    p95: formatLatency(r.p95Ms),
  }));
  const failures = data.failures.map((f) => ({
    ...f,
    errorClass: f.errorClass || 'unclassified',
    errorCode: f.errorCode || '–',
    traceUrl: `${data.traceUrlBase}${encodeURIComponent(f.exampleCorrelationId)}`,
  }));
  const alerts = data.incidents.alerts;
  const resolved = alerts.filter((a) => a.endsAt > 0 && a.endsAt < data.week.to);
  const resolveTimes = resolved.map((a) => a.endsAt - a.startsAt).sort((a, b) => a - b);
  const incidentTotals = {
    alerts: alerts.length,
    paged: alerts.filter((a) => a.paged).length,
    autoResolved: resolved.length,
    medianResolve: resolveTimes.length === 0 ? '–' : formatLatency(resolveTimes[Math.floor((resolveTimes.length - 1) / 2)]!),
    longestResolve: resolveTimes.length === 0 ? '–' : formatLatency(resolveTimes.at(-1)!),
  };
  const silences = data.incidents.silences.map((s) => {
    const ageDays = Math.floor((data.at - s.startsAt) / DAY);
    return { ...s, since: when(s.startsAt, zone), expires: when(s.endsAt, zone), ageDays, forgotten: ageDays >= 7 };
  });
  const deadLetterTotal = data.deadLetters.reduce((n, d) => n + d.count, 0);
  const totals = { runs: data.runs.reduce((n, r) => n + r.runs, 0), previousRuns: data.previousRuns.reduce((n, r) => n + r.runs, 0) };
  const base = { slos, totals, topFailure: data.failures[0], incidentTotals, deadLetterTotal };
  const empty = totals.runs === 0 && slos.every((s) => s.runs === 0) && alerts.length === 0 && deadLetterTotal === 0 && silences.length === 0;
  return {
    team: data.team,
    week: data.week.label,
    weekText: describeWeek(data.week),
    generatedAt: DateTime.fromMillis(data.at, { zone }).toFormat("yyyy-LL-dd HH:mm ZZZZ"),
    empty,
    emptyLine: `Nothing to report for ${data.team} in ${data.week.label}: no runs, no SLO counts, no alerts, no dead letters, no silences.`,
    summary: summaryLines(base),
    ...base,
    runs,
    slowSteps: data.slowSteps.map((s) => ({ ...s, p50: formatLatency(s.p50Ms), p95: formatLatency(s.p95Ms) })),
    failures,
    incidents: incidentGroups(alerts, zone, data.traceUrlBase),
    deadLetters: data.deadLetters,
    silences,
  };
}

export type ScorecardView = ReturnType<typeof scorecardView>;
