import type { Store } from '../domain/store.ts';
import type { DetectorsConfig } from '../alerts/detectors/config.ts';
import { decodeState, type AlertState } from '../alerts/persistence.ts';
import { documentOf } from '../alerts/state-documents.ts';
import type { Alert } from '../alerts/types.ts';
import type { SilenceData } from '../alerts/silences/silence.ts';
import { silenceFromData, silenceState } from '../alerts/silences/silence.ts';
import type { IsoWeek } from './week.ts';

/**
 * The business incidents of a week, read from what the alert path keeps. Today that is the JSON
 * state documents (`alerts:<group>:global`, `:p<n>`, `:slo`, `:silence:<id>`): alerts still held
 * (firing, or resolved within keepFiringFor and the book's retention), the notification log and
 * the silences. This
 * file is the only reader, so moving to per-change alert rows touches nothing else.
 *
 * Known limit: a resolved alert the book has already pruned is missing here; per-change rows
 * will carry every one.
 */

export type IncidentKind = 'duplicate' | 'stuck' | 'missed-deadline' | 'partial-failure' | 'other';

export interface IncidentAlert {
  kind: IncidentKind;
  detector: string;
  workflow: string;
  summary: string;
  correlationId: string;
  startsAt: number;
  /** 0 while still firing. */
  endsAt: number;
  paged: boolean;
}

export interface SilenceSummary {
  id: string;
  matchers: string;
  createdBy: string;
  comment: string;
  startsAt: number;
  endsAt: number;
}

export interface WeekIncidents {
  /** Alerts of the team that fired in the week or were still firing in it. */
  alerts: IncidentAlert[];
  /** Silences active at `at` that can mute the team's alerts. */
  silences: SilenceSummary[];
}

const KIND_OF: Record<string, IncidentKind> = {
  duplicateEffects: 'duplicate',
  stuck: 'stuck',
  missedDeadlines: 'missed-deadline',
  partialFailures: 'partial-failure',
};

export function detectorKinds(detectors: DetectorsConfig): Map<string, IncidentKind> {
  const out = new Map<string, IncidentKind>();
  for (const [section, kind] of Object.entries(KIND_OF)) {
    for (const d of (detectors as unknown as Record<string, { name: string }[]>)[section] ?? []) out.set(d.name, kind);
  }
  return out;
}

/** Pure: the team's incidents from decoded state documents. */
export function incidentsFrom(states: readonly AlertState[], team: string, week: IsoWeek, at: number, kinds: ReadonlyMap<string, IncidentKind>): WeekIncidents {
  const paged = new Set<string>();
  for (const state of states) {
    for (const open of Object.values(state.notificationLog?.open ?? {})) for (const fp of Object.keys(open)) paged.add(fp);
    for (const entry of Object.values(state.notificationLog?.entries ?? {})) for (const fp of [...entry.firing, ...entry.resolved]) paged.add(fp);
  }
  const seen = new Map<string, Alert>();
  for (const state of states) {
    for (const entry of state.alerts) {
      const a = entry.alert;
      if (!entry.fired || a.labels['team'] !== team) continue;
      const prior = seen.get(a.fingerprint);
      if (!prior || prior.startsAt < a.startsAt) seen.set(a.fingerprint, a);
    }
  }
  const alerts = [...seen.values()]
    .filter((a) => a.startsAt < week.to && (a.endsAt === 0 || a.endsAt >= week.from))
    .map((a): IncidentAlert => ({
      kind: kinds.get(a.labels['detector'] ?? '') ?? 'other',
      detector: a.labels['detector'] ?? '',
      workflow: a.labels['workflow'] ?? '',
      summary: a.annotations['summary'] ?? '',
      correlationId: a.annotations['correlation_id'] ?? '',
      startsAt: a.startsAt,
      endsAt: a.endsAt,
      paged: paged.has(a.fingerprint),
    }))
    .sort((a, b) => a.startsAt - b.startsAt || a.correlationId.localeCompare(b.correlationId));
  const silences = states
    .flatMap((s) => s.silences ?? [])
    .filter((s) => silenceState(s, at) === 'active' && mayMute(s, team))
    .map((s) => ({
      id: s.id,
      matchers: s.matchers.map((m) => `${m.name}${m.type}"${m.value}"`).join(', '),
      createdBy: s.createdBy,
      comment: s.comment,
      startsAt: s.startsAt,
      endsAt: s.endsAt,
    }))
    .sort((a, b) => a.startsAt - b.startsAt);
  return { alerts, silences: [...new Map(silences.map((s) => [s.id, s])).values()] };
}

/** A silence concerns a team when its matchers on `team` (if any) accept the team. */
function mayMute(data: SilenceData, team: string): boolean {
  try {
    return silenceFromData(data).matchers.filter((m) => m.name === 'team').every((m) => m.matches(team));
  } catch {
    return true;
  }
}

/** Reads the state documents of the consumer group `groupId` through the store. */
export async function readIncidents(store: Store, groupId: string, team: string, week: IsoWeek, at: number, kinds: ReadonlyMap<string, IncidentKind>): Promise<WeekIncidents> {
  const base = `alerts:${groupId}`;
  const states: AlertState[] = [];
  for (const [key, text] of await store.documentsWithPrefix(base)) {
    const doc = documentOf(base, key);
    // Each silence is a document of its own; older versions kept them in the shared one.
    if (doc?.kind === 'silence') states.push({ alerts: [], notificationLog: undefined, silences: [decodeState<SilenceData>(text)] });
    else if (doc?.kind === 'alerts') states.push(decodeState<AlertState>(text));
  }
  return incidentsFrom(states, team, week, at, kinds);
}
