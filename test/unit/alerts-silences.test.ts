import { describe, expect, it } from 'vitest';
import { createSilence, expireSilence, listSilences, pruneSilences, updateSilence, type SilenceInput } from '../../src/alerts/silences/silence-book.ts';
import { isSilenced, silenceFromData, silencedBy, silenceState, silenceToData, type Silence } from '../../src/alerts/silences/silence.ts';

const t = (clock: string) => Date.parse(`2026-03-02T${clock}Z`);
const NOW = t('10:00:00');
const HOUR = 3_600_000;

const input = (overrides: Partial<SilenceInput> = {}): SilenceInput => ({
  matchers: 'team="billing", workflow="plan-upgrade"',
  endsAt: NOW + 2 * HOUR,
  createdBy: 'ana@example.com',
  comment: 'CRM migration, TICKET-123',
  ...overrides,
});

function created(silences: readonly Silence[], overrides: Partial<SilenceInput>, id: string, now = NOW): Silence[] {
  const result = createSilence(silences, input(overrides), now, id);
  if (!result.ok) throw new Error(result.problems.join('; '));
  return result.silences;
}

describe('createSilence', () => {
  it('stores a silence with its owner, comment and times', () => {
    const result = createSilence([], input({ startsAt: NOW + HOUR }), NOW, 's1');
    expect(result.ok && silenceToData(result.silence)).toEqual({
      id: 's1',
      matchers: [
        { name: 'team', type: '=', value: 'billing' },
        { name: 'workflow', type: '=', value: 'plan-upgrade' },
      ],
      startsAt: NOW + HOUR,
      endsAt: NOW + 2 * HOUR,
      createdBy: 'ana@example.com',
      comment: 'CRM migration, TICKET-123',
      updatedAt: NOW,
    });
  });

  it('starts now when no start is given or the start is in the past', () => {
    for (const startsAt of [undefined, NOW - HOUR]) {
      const result = createSilence([], input({ startsAt }), NOW, 's1');
      expect(result.ok && result.silence.startsAt).toBe(NOW);
    }
  });

  it('takes matchers as data too', () => {
    const result = createSilence([], input({ matchers: [{ name: 'detector', type: '=~', value: 'stuck|missed-deadline' }] }), NOW, 's1');
    expect(result.ok && result.silence.matchers.map(String)).toEqual(['detector=~"stuck|missed-deadline"']);
  });

  it.each<[string, Partial<SilenceInput>, string[]]>([
    ['no matcher at all', { matchers: '' }, ['matchers: at least one matcher is required']],
    ['an empty list of matchers', { matchers: [] }, ['matchers: at least one matcher is required']],
    [
      'a matcher that matches everything',
      { matchers: 'team=~".*"' },
      ['matchers: would silence every alert: each matcher also matches alerts without its label (add one that does not match "")'],
    ],
    [
      'only matchers that match alerts lacking the label',
      { matchers: 'team!="support", workflow=""' },
      ['matchers: would silence every alert: each matcher also matches alerts without its label (add one that does not match "")'],
    ],
    ['a matcher that does not parse', { matchers: 'team=="billing"' }, ['matchers: column 6: unexpected "=": expected a label value']],
    [
      'bad matchers given as data, each reported',
      { matchers: [{ name: 'team', type: '=', value: 'billing' }, { name: 'work flow', type: '=', value: 'x' }, { name: 'w', type: '=~', value: '[' }] },
      ['matchers[1]: invalid label name "work flow"', 'matchers[2]: invalid regular expression "[": Unterminated character class'],
    ],
    ['an end before the start', { startsAt: NOW + 3 * HOUR }, ['endsAt: must be after startsAt']],
    ['an end equal to the start', { startsAt: NOW + 2 * HOUR }, ['endsAt: must be after startsAt']],
    ['an end in the past', { endsAt: NOW - 1 }, ['endsAt: must be in the future']],
    ['an end of now', { endsAt: NOW }, ['endsAt: must be in the future']],
    ['no end', { endsAt: Number.NaN }, ['endsAt: required']],
    [
      'no owner and no reason',
      { createdBy: ' ', comment: '' },
      ['createdBy: required (who owns this silence)', 'comment: required (why the silence is needed)'],
    ],
  ])('refuses %s', (_name, overrides, problems) => {
    expect(createSilence([], input(overrides), NOW, 's1')).toEqual({ ok: false, problems });
  });

  it('refuses an id that exists already', () => {
    const silences = created([], {}, 's1');
    expect(createSilence(silences, input(), NOW, 's1')).toEqual({ ok: false, problems: ['id: a silence "s1" exists already'] });
  });
});

describe('silence state and matching', () => {
  const silences = [
    ...created([], { matchers: 'team="billing", workflow="plan-upgrade"', startsAt: t('10:00:00'), endsAt: t('12:00:00') }, 'upgrade'),
    ...created([], { matchers: 'detector=~"stuck|source-silence"', startsAt: t('11:00:00'), endsAt: t('13:00:00') }, 'stuck'),
  ];

  it.each<[string, string, string, string[]]>([
    ['before the start: pending', '09:59:59', '{"team":"billing","workflow":"plan-upgrade"}', []],
    ['at the start: active', '10:00:00', '{"team":"billing","workflow":"plan-upgrade"}', ['upgrade']],
    ['every matcher must match', '10:30:00', '{"team":"billing","workflow":"invoice-sync"}', []],
    ['extra labels do not matter', '10:30:00', '{"team":"billing","workflow":"plan-upgrade","severity":"critical"}', ['upgrade']],
    ['two silences at once', '11:30:00', '{"team":"billing","workflow":"plan-upgrade","detector":"stuck"}', ['upgrade', 'stuck']],
    ['just before the end: active', '11:59:59', '{"team":"billing","workflow":"plan-upgrade"}', ['upgrade']],
    ['at the end: expired', '12:00:00', '{"team":"billing","workflow":"plan-upgrade"}', []],
    ['a regular expression is anchored', '11:30:00', '{"detector":"stuck-ticket"}', []],
  ])('%s', (_name, clock, labels, ids) => {
    expect(silencedBy(silences, JSON.parse(labels), t(clock))).toEqual(ids);
    expect(isSilenced(silences, JSON.parse(labels), t(clock))).toBe(ids.length > 0);
  });

  it.each<[string, string]>([
    ['09:59:59', 'pending'],
    ['10:00:00', 'active'],
    ['11:59:59', 'active'],
    ['12:00:00', 'expired'],
  ])('at %s it is %s', (clock, state) => {
    expect(silenceState(silences[0]!, t(clock))).toBe(state);
  });

  it('survives a round trip through storage', () => {
    const restored = silences.map((s) => silenceFromData(JSON.parse(JSON.stringify(silenceToData(s)))));
    expect(silencedBy(restored, { team: 'billing', workflow: 'plan-upgrade', detector: 'stuck' }, t('11:30:00'))).toEqual(['upgrade', 'stuck']);
  });
});

describe('expireSilence', () => {
  it('ends an active silence now', () => {
    const silences = created([], {}, 's1');
    const result = expireSilence(silences, 's1', NOW + HOUR);
    expect(result.ok && [result.silence.startsAt, result.silence.endsAt, result.silence.updatedAt]).toEqual([NOW, NOW + HOUR, NOW + HOUR]);
    expect(result.ok && silenceState(result.silence, NOW + HOUR)).toBe('expired');
    expect(silences[0]!.endsAt).toBe(NOW + 2 * HOUR);
  });

  it('ends a pending silence before it began', () => {
    const silences = created([], { startsAt: NOW + HOUR }, 's1');
    const result = expireSilence(silences, 's1', NOW + 60_000);
    expect(result.ok && [result.silence.startsAt, result.silence.endsAt]).toEqual([NOW + 60_000, NOW + 60_000]);
  });

  it.each<[string, number, string]>([
    ['s1', NOW + 3 * HOUR, 'silence "s1" has already expired'],
    ['nope', NOW, 'silence "nope" not found'],
  ])('refuses %s at %d', (id, now, problem) => {
    expect(expireSilence(created([], {}, 's1'), id, now)).toEqual({ ok: false, problems: [problem] });
  });
});

describe('updateSilence', () => {
  const later = NOW + HOUR;

  it('extends an active silence in place', () => {
    const result = updateSilence(created([], {}, 's1'), 's1', input({ endsAt: NOW + 5 * HOUR, comment: 'still migrating' }), later, 's2');
    expect(result.ok && result.silences.map((s) => [s.id, s.startsAt, s.endsAt, s.comment, s.updatedAt])).toEqual([['s1', NOW, NOW + 5 * HOUR, 'still migrating', later]]);
  });

  it('replaces an active silence whose matchers change: the old one ends now, so what it muted stays on record', () => {
    const result = updateSilence(created([], {}, 's1'), 's1', input({ matchers: 'team="billing"' }), later, 's2');
    expect(result.ok && result.silences.map((s) => [s.id, s.startsAt, s.endsAt, s.matchers.map(String).join(',')])).toEqual([
      ['s1', NOW, later, 'team="billing",workflow="plan-upgrade"'],
      ['s2', later, NOW + 2 * HOUR, 'team="billing"'],
    ]);
    expect(result.ok && result.silence.id).toBe('s2');
  });

  it('moves a pending silence in place', () => {
    const result = updateSilence(created([], { startsAt: NOW + 2 * HOUR, endsAt: NOW + 3 * HOUR }, 's1'), 's1', input({ startsAt: NOW + 4 * HOUR, endsAt: NOW + 5 * HOUR }), later, 's2');
    expect(result.ok && result.silences.map((s) => [s.id, s.startsAt, s.endsAt])).toEqual([['s1', NOW + 4 * HOUR, NOW + 5 * HOUR]]);
  });

  it('turns an expired silence into a new one', () => {
    const result = updateSilence(created([], {}, 's1'), 's1', input({ endsAt: NOW + 6 * HOUR }), NOW + 3 * HOUR, 's2');
    expect(result.ok && result.silences.map((s) => [s.id, s.startsAt, s.endsAt])).toEqual([
      ['s1', NOW, NOW + 2 * HOUR],
      ['s2', NOW + 3 * HOUR, NOW + 6 * HOUR],
    ]);
  });

  it('checks the change like a new silence', () => {
    expect(updateSilence(created([], {}, 's1'), 's1', input({ comment: '' }), later, 's2')).toEqual({ ok: false, problems: ['comment: required (why the silence is needed)'] });
  });
});

describe('listSilences and pruneSilences', () => {
  let silences: Silence[] = [];
  silences = created(silences, { endsAt: t('13:00:00') }, 'active-late');
  silences = created(silences, { endsAt: t('11:00:00') }, 'active-soon');
  silences = created(silences, { startsAt: t('12:00:00'), endsAt: t('14:00:00') }, 'pending');
  silences = created(silences, { startsAt: t('10:30:00'), endsAt: t('14:00:00'), matchers: 'team="support"' }, 'pending-sooner');
  silences = created(silences, { endsAt: t('10:05:00') }, 'expired-early', t('09:00:00'));
  silences = created(silences, { endsAt: t('10:08:00') }, 'expired-late', t('09:00:00'));
  const now = t('10:10:00');

  it('lists active (ending soonest first), then pending (starting soonest), then expired (latest first)', () => {
    expect(listSilences(silences, now).map((s) => s.id)).toEqual(['active-soon', 'active-late', 'pending-sooner', 'pending', 'expired-late', 'expired-early']);
  });

  it('filters by state and by the labels an alert has', () => {
    expect(listSilences(silences, now, { state: 'pending' }).map((s) => s.id)).toEqual(['pending-sooner', 'pending']);
    expect(listSilences(silences, now, { labels: { team: 'support' } }).map((s) => s.id)).toEqual(['pending-sooner']);
    expect(listSilences(silences, now, { state: 'active', labels: { team: 'support' } })).toEqual([]);
  });

  it('forgets expired silences after the retention, and nothing else', () => {
    expect(pruneSilences(silences, t('10:10:00'), 5 * 60_000).map((s) => s.id)).toEqual(['active-late', 'active-soon', 'pending', 'pending-sooner', 'expired-late']);
    expect(pruneSilences(silences, t('10:13:00'), 5 * 60_000).map((s) => s.id)).toEqual(['active-late', 'active-soon', 'pending', 'pending-sooner']);
  });
});
