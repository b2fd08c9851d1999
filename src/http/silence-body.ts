import { parseDuration } from '../domain/duration.ts';
import { LabelMatcher, MatcherError, type MatcherSpec } from '../alerts/routing/matcher.ts';
import { parseMatchers } from '../alerts/routing/parse-matchers.ts';
import { checkSilence, type SilenceInput } from '../alerts/silences/silence-book.ts';
import { silenceState, type Silence } from '../alerts/silences/silence.ts';

/** Fields a client may send back unchanged from a GET; they are ignored. */
const READ_ONLY = new Set(['id', 'state', 'updatedAt']);
const FIELDS = new Set(['matchers', 'startsAt', 'endsAt', 'duration', 'createdBy', 'comment']);

export type SilenceBody = { ok: true; input: SilenceInput } | { ok: false; problems: string[] };

/** `startsAt` the silence will have when the body gives none: now, or the current start on update. */
export type DefaultStart = (now: number) => number;

/**
 * Reads a POST or PUT body into the input silence-book.ts checks. Every problem is reported at
 * once with its field: first what is wrong with the shape of the JSON, then what checkSilence
 * says about the fields whose shape was right (so a field is never blamed twice).
 *
 * `matchers` is one string (`team="billing", workflow="plan-upgrade"`), or a list whose items
 * are such strings or `{ name, type, value }`. The end is `endsAt` (ISO 8601) or `duration`
 * ("2h"), counted from when the silence starts: the later of its start and now.
 */
export function readSilenceBody(body: unknown, now: number, defaultStart: DefaultStart = (n) => n): SilenceBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, problems: ['body: must be a JSON object (Content-Type: application/json)'] };
  }
  const b = body as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(b)) if (!FIELDS.has(key) && !READ_ONLY.has(key)) problems.push(`${key}: unknown field`);

  const matchers = readMatchers(b['matchers'], problems);
  const startsAt = b['startsAt'] === undefined ? undefined : readTime('startsAt', b['startsAt'], problems);
  const createdBy = readText('createdBy', b['createdBy'], problems);
  const comment = readText('comment', b['comment'], problems);

  let endsAt = NaN;
  if (b['endsAt'] !== undefined && b['duration'] !== undefined) problems.push('duration: give endsAt or duration, not both');
  else if (b['endsAt'] !== undefined) endsAt = readTime('endsAt', b['endsAt'], problems) ?? NaN;
  else if (b['duration'] !== undefined) {
    const ms = typeof b['duration'] === 'string' ? parseDuration(b['duration']) : undefined;
    if (ms === undefined || ms <= 0) problems.push(`duration: not a duration: ${JSON.stringify(b['duration'])} (use e.g. 30m, 2h, 1d)`);
    else endsAt = Math.max(startsAt ?? defaultStart(now), now) + ms;
  } else problems.push('endsAt: required (or duration, e.g. "2h")');

  const input: SilenceInput = { matchers, startsAt: startsAt ?? defaultStart(now), endsAt, createdBy, comment };
  if (problems.length === 0) return { ok: true, input: { ...input, startsAt } };
  const blamed = (p: string) => problems.some((q) => fieldOf(q) === fieldOf(p) || (fieldOf(p) === 'endsAt' && fieldOf(q) === 'duration'));
  const more = checkSilence(input, now).problems.filter((p) => !blamed(p));
  return { ok: false, problems: [...problems, ...more] };
}

const fieldOf = (problem: string) => /^[A-Za-z]+/.exec(problem)?.[0] ?? '';

function readMatchers(value: unknown, problems: string[]): SilenceInput['matchers'] {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) {
    problems.push(value === undefined ? 'matchers: required, e.g. team="billing-platform"' : 'matchers: must be a string like team="billing-platform" or a list of them or of { name, type, value }');
    return [];
  }
  const specs: MatcherSpec[] = [];
  value.forEach((item: unknown, i) => {
    if (typeof item === 'string') {
      try {
        specs.push(...parseMatchers(item).map((m) => m.toJSON()));
      } catch (error) {
        if (!(error instanceof MatcherError)) throw error;
        problems.push(`matchers[${i}]: ${error.message}`);
      }
    } else if (isSpec(item)) {
      try {
        // Checked here so a problem names the item as the client sent it.
        specs.push(LabelMatcher.of(item as MatcherSpec).toJSON());
      } catch (error) {
        if (!(error instanceof MatcherError)) throw error;
        problems.push(`matchers[${i}]: ${error.message}`);
      }
    }    else problems.push(`matchers[${i}]: must be a string like team="billing-platform" or { name, type, value } with string fields`);
  });
  return specs;
}

const isSpec = (item: unknown): item is { name: string; type: string; value: string } =>
  typeof item === 'object' && item !== null && ['name', 'type', 'value'].every((k) => typeof (item as Record<string, unknown>)[k] === 'string');

function readTime(field: string, value: unknown, problems: string[]): number | undefined {
  // Date.parse takes many forms; only ISO 8601 with a date and a time is an API promise.
  const ms = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : NaN;
  if (Number.isFinite(ms)) return ms;
  problems.push(`${field}: must be an ISO 8601 time, e.g. "2026-11-25T21:00:00Z", not ${JSON.stringify(value)}`);
  return undefined;
}

function readText(field: string, value: unknown, problems: string[]): string {
  if (typeof value === 'string') return value;
  if (value !== undefined) problems.push(`${field}: must be a string`);
  return ''; // absent: checkSilence says it is required, in its own words
}

/** A silence as the API shows it: times in ISO 8601, with its state now. */
export function silenceView(silence: Silence, now: number) {
  return {
    id: silence.id,
    state: silenceState(silence, now),
    matchers: silence.matchers.map((m) => m.toJSON()),
    startsAt: new Date(silence.startsAt).toISOString(),
    endsAt: new Date(silence.endsAt).toISOString(),
    createdBy: silence.createdBy,
    comment: silence.comment,
    updatedAt: new Date(silence.updatedAt).toISOString(),
  };
}
