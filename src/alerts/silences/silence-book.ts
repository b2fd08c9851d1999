import type { Labels } from '../routing/labels.ts';
import { LabelMatcher, MatcherError, matchesAll, type MatcherSpec } from '../routing/matcher.ts';
import { parseMatchers } from '../routing/parse-matchers.ts';
import { silenceState, type Silence, type SilenceState } from './silence.ts';

/**
 * Creating, updating, expiring, listing and pruning silences: pure functions over a list of
 * silences, with the clock and new ids passed in, as the HTTP API and the store will call them.
 * Every function returns a new list; the one given is not changed.
 */

/** What the API takes. `matchers` as text (`team="billing", workflow="plan-upgrade"`) or as data. */
export interface SilenceInput {
  matchers: string | readonly MatcherSpec[];
  /** Default: now. A start in the past becomes now, as in Alertmanager. */
  startsAt?: number | undefined;
  endsAt: number;
  createdBy: string;
  comment: string;
}

export type SilenceResult =
  | { ok: true; silences: Silence[]; silence: Silence }
  | { ok: false; problems: string[] };

function compileInput(input: SilenceInput, problems: string[]): LabelMatcher[] {
  if (typeof input.matchers === 'string') {
    try {
      return parseMatchers(input.matchers);
    } catch (error) {
      if (!(error instanceof MatcherError)) throw error;
      problems.push(`matchers: ${error.message}`);
      return [];
    }
  }
  const out: LabelMatcher[] = [];
  input.matchers.forEach((spec, i) => {
    try {
      out.push(LabelMatcher.of(spec));
    } catch (error) {
      if (!(error instanceof MatcherError)) throw error;
      problems.push(`matchers[${i}]: ${error.message}`);
    }
  });
  return out;
}

/**
 * Checks a silence before it is stored; every problem with the field it is about. A silence
 * needs an owner, a reason, an end after its start and in the future, at least one matcher, and
 * at least one matcher that does not match the empty string: otherwise it would also match
 * every alert that lacks the labels it names, which is every alert (Alertmanager's rule).
 */
export function checkSilence(input: SilenceInput, now: number): { matchers: LabelMatcher[]; startsAt: number; problems: string[] } {
  const problems: string[] = [];
  const matchers = compileInput(input, problems);
  const parsed = problems.length === 0;
  if (parsed && matchers.length === 0) problems.push('matchers: at least one matcher is required');
  if (parsed && matchers.length > 0 && matchers.every((m) => m.matches(''))) {
    problems.push('matchers: would silence every alert: each matcher also matches alerts without its label (add one that does not match "")');
  }
  if (input.createdBy.trim() === '') problems.push('createdBy: required (who owns this silence)');
  if (input.comment.trim() === '') problems.push('comment: required (why the silence is needed)');
  const startsAt = Math.max(input.startsAt ?? now, now);
  if (!Number.isFinite(input.endsAt)) problems.push('endsAt: required');
  else if (input.endsAt <= now) problems.push('endsAt: must be in the future');
  else if (input.endsAt <= startsAt) problems.push('endsAt: must be after startsAt');
  return { matchers, startsAt, problems };
}

export function createSilence(silences: readonly Silence[], input: SilenceInput, now: number, id: string): SilenceResult {
  const checked = checkSilence(input, now);
  if (silences.some((s) => s.id === id)) checked.problems.push(`id: a silence "${id}" exists already`);
  if (checked.problems.length > 0) return { ok: false, problems: checked.problems };
  const silence: Silence = {
    id,
    matchers: checked.matchers,
    startsAt: checked.startsAt,
    endsAt: input.endsAt,
    createdBy: input.createdBy.trim(),
    comment: input.comment.trim(),
    updatedAt: now,
  };
  return { ok: true, silences: [...silences, silence], silence };
}

/** Ends a silence now. A pending one ends before it began; an expired one cannot be expired again. */
export function expireSilence(silences: readonly Silence[], id: string, now: number): SilenceResult {
  const current = silences.find((s) => s.id === id);
  if (!current) return { ok: false, problems: [`silence "${id}" not found`] };
  const state = silenceState(current, now);
  if (state === 'expired') return { ok: false, problems: [`silence "${id}" has already expired`] };
  const silence: Silence = { ...current, startsAt: state === 'pending' ? now : current.startsAt, endsAt: now, updatedAt: now };
  return { ok: true, silences: silences.map((s) => (s.id === id ? silence : s)), silence };
}

const sameMatchers = (a: readonly LabelMatcher[], b: readonly LabelMatcher[]) =>
  a.length === b.length && a.every((m, i) => String(m) === String(b[i]));

/**
 * Changes a silence, as Alertmanager does: in place when the change cannot alter what it has
 * muted so far (same matchers; an active one keeps its start and does not end in the past; a
 * pending one does not start in the past); otherwise the old one is expired and a new one with
 * `newId` replaces it, so the record of what was muted stays true.
 */
export function updateSilence(silences: readonly Silence[], id: string, input: SilenceInput, now: number, newId: string): SilenceResult {
  const current = silences.find((s) => s.id === id);
  if (!current) return { ok: false, problems: [`silence "${id}" not found`] };
  const state = silenceState(current, now);
  const requestedStart = input.startsAt ?? (state === 'expired' ? now : current.startsAt);
  const checked = checkSilence({ ...input, startsAt: requestedStart }, now);
  if (checked.problems.length > 0) return { ok: false, problems: checked.problems };
  const inPlace =
    sameMatchers(current.matchers, checked.matchers) &&
    ((state === 'active' && requestedStart === current.startsAt) || (state === 'pending' && requestedStart >= now));
  if (inPlace) {
    const silence: Silence = {
      ...current,
      startsAt: state === 'active' ? current.startsAt : requestedStart,
      endsAt: input.endsAt,
      createdBy: input.createdBy.trim(),
      comment: input.comment.trim(),
      updatedAt: now,
    };
    return { ok: true, silences: silences.map((s) => (s.id === id ? silence : s)), silence };
  }
  const expired = state === 'expired' ? { ok: true as const, silences: [...silences] } : expireSilence(silences, id, now);
  if (!expired.ok) return expired;
  return createSilence(expired.silences, { ...input, startsAt: requestedStart }, now, newId);
}

export interface SilenceFilter {
  state?: SilenceState | undefined;
  /** Only silences that would mute an alert with these labels. */
  labels?: Labels | undefined;
}

const STATE_ORDER: Record<SilenceState, number> = { active: 0, pending: 1, expired: 2 };

/** Active first (ending soonest first), then pending (starting soonest), then expired (latest first). */
export function listSilences(silences: readonly Silence[], now: number, filter: SilenceFilter = {}): Silence[] {
  const key = (s: Silence) => {
    const state = silenceState(s, now);
    return { order: STATE_ORDER[state], at: state === 'active' ? s.endsAt : state === 'pending' ? s.startsAt : -s.endsAt };
  };
  return silences
    .filter((s) => (filter.state === undefined || silenceState(s, now) === filter.state) && (filter.labels === undefined || matchesAll(s.matchers, filter.labels)))
    .sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      return ka.order - kb.order || ka.at - kb.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    });
}

/** Forgets silences that expired at least `retentionMs` ago (Alertmanager keeps them 5 days). */
export function pruneSilences(silences: readonly Silence[], now: number, retentionMs: number): Silence[] {
  return silences.filter((s) => !(silenceState(s, now) === 'expired' && s.endsAt + retentionMs <= now));
}
