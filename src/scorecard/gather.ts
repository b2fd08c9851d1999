import type { Store } from '../domain/store.ts';
import type { SourceConfig } from '../collectors/config.ts';
import type { WorkflowDefinition } from '../domain/workflow.ts';
import type { SloDefinition } from '../slo/types.ts';
import { windowStart } from '../slo/window.ts';
import { readIncidents, type IncidentKind } from './incidents.ts';
import type { ScorecardData } from './model.ts';
import { isoWeek, shiftWeek } from './week.ts';

/** What reading a team's week needs from the configuration. */
export interface ScorecardSources {
  store: Store;
  workflows: readonly WorkflowDefinition[];
  slos: readonly SloDefinition[];
  sources: readonly Pick<SourceConfig, 'name' | 'topic'>[];
  /** The consumer group whose alert state documents are read. */
  groupId: string;
  detectorKinds: ReadonlyMap<string, IncidentKind>;
  traceUrlBase: string;
}

const TREND_WEEKS = 8;
const minute = (t: number) => Math.floor(t / 60_000);

/** Every team that owns a workflow or an SLO. */
export function owningTeams(s: Pick<ScorecardSources, 'workflows' | 'slos'>): string[] {
  return [...new Set([...s.workflows.map((w) => w.owner), ...s.slos.map((slo) => slo.owner)])].sort();
}

/** Reads one team's week from the store. `at` is the wall clock (silences active now). */
export async function gatherScorecard(s: ScorecardSources, team: string, weekLabel: string, timeZone: string, at: number): Promise<ScorecardData> {
  const week = isoWeek(weekLabel, timeZone);
  const range = { from: week.from, to: week.to };
  const previous = shiftWeek(week, -1);
  const workflows = s.workflows.filter((w) => w.owner === team);
  const names = workflows.map((w) => w.name);
  const slos = s.slos.filter((slo) => slo.owner === team);
  const weeks = Array.from({ length: TREND_WEEKS }, (_, i) => shiftWeek(week, i - (TREND_WEEKS - 1)));
  const sourceNames = new Set(workflows.flatMap((w) => [w.trigger.source, ...w.steps.map((st) => st.source), ...w.compensation.map((c) => c.source)]));
  const topics = s.sources.filter((src) => sourceNames.has(src.name));
  const sourceOf = new Map(topics.map((src) => [src.topic, src.name]));

  const [weekly, windows, runs, previousRuns, slowSteps, failures, deadLetters, incidents] = await Promise.all([
    Promise.all(weeks.map((w) => s.store.sloCounts(slos.map((slo) => ({ slo: slo.name, fromMinute: minute(w.from), toMinute: minute(w.to) }))))),
    // The error budget left at the end of the week, over each SLO's own window.
    s.store.sloCounts(slos.map((slo) => ({ slo: slo.name, fromMinute: Math.ceil(windowStart(slo.window, week.to) / 60_000), toMinute: minute(week.to) }))),
    s.store.workflowRuns(names, range),
    s.store.workflowRuns(names, { from: previous.from, to: previous.to }),
    s.store.slowSteps(names, range, 5),
    s.store.failureModes(names, range, 8),
    s.store.deadLetterCounts([...sourceOf.keys()], range),
    readIncidents(s.store, s.groupId, team, week, at, s.detectorKinds),
  ]);
  return {
    team,
    week,
    at,
    slos: slos.map((slo) => ({
      slo,
      weeks: weeks.map((w, i) => ({ label: w.label, counts: weekly[i]!.get(slo.name) ?? { good: 0, total: 0 } })),
      windowCounts: windows.get(slo.name) ?? { good: 0, total: 0 },
    })),
    runs,
    previousRuns,
    slowSteps,
    failures,
    deadLetters: deadLetters.map((d) => ({ ...d, source: sourceOf.get(d.topic) ?? d.topic })),
    incidents,
    traceUrlBase: s.traceUrlBase,
  };
}
