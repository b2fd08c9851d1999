import type { Labels } from '../routing/labels.ts';
import { LabelMatcher, matchesAll, type MatcherSpec } from '../routing/matcher.ts';

/**
 * A silence mutes notifications for the alerts its matchers select, from `startsAt` until
 * `endsAt`. It suppresses triggers only: a resolve for something already paged is always sent
 * (see notify/dedup.ts). Times are epoch milliseconds.
 */
export interface Silence {
  id: string;
  matchers: readonly LabelMatcher[];
  startsAt: number;
  endsAt: number;
  /** Who made it: the owner the API shows and asks about. */
  createdBy: string;
  /** Why: a ticket, the maintenance, the incident. */
  comment: string;
  updatedAt: number;
}

/** A silence as stored and sent over the API: matchers as data. */
export interface SilenceData extends Omit<Silence, 'matchers'> {
  matchers: MatcherSpec[];
}

export type SilenceState = 'pending' | 'active' | 'expired';

/** Active from `startsAt` (inclusive) until `endsAt` (exclusive), as Alertmanager's CalcSilenceState. */
export function silenceState(silence: Pick<Silence, 'startsAt' | 'endsAt'>, now: number): SilenceState {
  if (now < silence.startsAt) return 'pending';
  if (now < silence.endsAt) return 'active';
  return 'expired';
}

/** The ids of the active silences that match the labels, in the order given. */
export function silencedBy(silences: readonly Silence[], labels: Labels, now: number): string[] {
  return silences.filter((s) => silenceState(s, now) === 'active' && matchesAll(s.matchers, labels)).map((s) => s.id);
}

export function isSilenced(silences: readonly Silence[], labels: Labels, now: number): boolean {
  return silences.some((s) => silenceState(s, now) === 'active' && matchesAll(s.matchers, labels));
}

export function silenceToData(silence: Silence): SilenceData {
  return { ...silence, matchers: silence.matchers.map((m) => m.toJSON()) };
}

/** Rebuilds a stored silence; throws MatcherError if a stored matcher no longer compiles. */
export function silenceFromData(data: SilenceData): Silence {
  return { ...data, matchers: data.matchers.map((m) => LabelMatcher.of(m)) };
}
