import { describe, expect, it } from 'vitest';
import { ownedBy } from '../../src/alerts/detectors/schema-parts.ts';
import { createDuplicateEffectDetector, duplicateEffectSchema, MAX_LISTED_EVENTS } from '../../src/alerts/detectors/duplicate-effect.ts';
import { replay, type DetectorInput } from '../../src/alerts/detectors/replay.ts';
import type { DetectorSignal } from '../../src/alerts/types.ts';
import type { WorkflowEvent } from '../../src/domain/event.ts';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
/** Fixed clock: event times are minutes after Tuesday 2026-11-03 09:00 UTC. */
const T0 = Date.UTC(2026, 10, 3, 9);
const at = (minute: number) => T0 + minute * MIN;

const CONFIG = ownedBy(duplicateEffectSchema.parse({
  name: 'duplicate-invoice',
  owner: 'billing-platform',
  match: { source: 'billing', type: 'invoice.created' },
  businessKey: ['account_id', 'billing_period'],
  window: '35d',
  summary: 'Account {account_id} was invoiced {times} for {billing_period} (invoices {events}) — refund or void one',
}));
const detector = createDuplicateEffectDetector(CONFIG);

let offset = 0;
function invoice(id: string, minute: number, account: string | null = 'acme', period = '2026-11', extra: Partial<WorkflowEvent> = {}): WorkflowEvent {
  return {
    source: 'billing',
    id,
    type: 'invoice.created',
    time: at(minute),
    correlationId: `c-${id}`,
    data: account === null ? { billing_period: period, amount: 4900 } : { account_id: account, billing_period: period, amount: 4900 },
    origin: { topic: 'billing.webhooks', partition: 0, offset: String(offset++) },
    ...extra,
  };
}
/** An input whose watermark is its own event time, as when a stream is read live. */
const live = (event: WorkflowEvent): DetectorInput<WorkflowEvent> => ({ input: event, watermark: event.time });
const tick = (minute: number): DetectorInput<WorkflowEvent> => ({ tick: at(minute) });

const ACME_KEY = '["acme","2026-11"]';
const ACME_TEXT = 'account_id=acme, billing_period=2026-11';

function firing(ids: string[], minute: number, correlationId: string): DetectorSignal {
  return {
    kind: 'firing',
    detector: 'duplicate-invoice',
    key: ACME_KEY,
    owner: 'billing-platform',
    severity: 'critical',
    summary: `Account acme was invoiced ${ids.length === 2 ? 'twice' : `${ids.length} times`} for 2026-11 (invoices ${ids.join(', ')}) — refund or void one`,
    correlationId,
    businessKey: ACME_TEXT,
    at: at(minute),
    details: { count: ids.length, events: ids.join(', '), correlationIds: ids.map((id) => `c-${id}`).join(', ') },
  };
}

describe('duplicate business effect: which streams signal', () => {
  it.each<[string, DetectorInput<WorkflowEvent>[], DetectorSignal[]]>([
    ['one invoice is no duplicate', [live(invoice('evt_1', 0))], []],
    ['two invoices for the same account and period: one signal at the second', [live(invoice('evt_1', 0)), live(invoice('evt_7', 3))], [firing(['evt_1', 'evt_7'], 3, 'c-evt_7')]],
    ['a redelivered invoice (same source and id, another offset) is never a duplicate', [live(invoice('evt_1', 0)), live(invoice('evt_1', 0)), live(invoice('evt_1', 0))], []],
    [
      'a redelivery with a later event time is still the same event',
      [live(invoice('evt_1', 0)), { input: invoice('evt_1', 9), watermark: at(9) }],
      [],
    ],
    ['a source the detector does not match is not compared', [live(invoice('evt_1', 0)), live(invoice('evt_2', 2, 'acme', '2026-11', { source: 'billing-eu' }))], []],
    ['another period is another key', [live(invoice('evt_1', 0)), live(invoice('evt_2', 1, 'acme', '2026-12'))], []],
    ['another account is another key', [live(invoice('evt_1', 0)), live(invoice('evt_2', 1, 'globex'))], []],
    ['35 days apart is still within the window', [live(invoice('evt_1', 0)), live(invoice('evt_7', 35 * 24 * 60))], [firing(['evt_1', 'evt_7'], 35 * 24 * 60, 'c-evt_7')]],
    ['a minute more than the window apart is no duplicate', [live(invoice('evt_1', 0)), tick(35 * 24 * 60 + 1), live(invoice('evt_7', 35 * 24 * 60 + 1))], []],
    [
      'three invoices: still one signal, at the second',
      [live(invoice('evt_1', 0)), live(invoice('evt_7', 3)), live(invoice('evt_9', 4))],
      [firing(['evt_1', 'evt_7'], 3, 'c-evt_7')],
    ],
    [
      'an invoice that arrives late but happened first: the signal is the same as in time order',
      [live(invoice('evt_7', 3)), { input: invoice('evt_1', 0), watermark: at(3) }],
      [firing(['evt_1', 'evt_7'], 3, 'c-evt_7')],
    ],
    [
      'invoices without the key fields are not compared',
      [live(invoice('evt_1', 0, null)), live(invoice('evt_2', 1, null))],
      [],
    ],
    [
      'other event types are not effects',
      [live(invoice('evt_1', 0)), live(invoice('evt_2', 1, 'acme', '2026-11', { type: 'invoice.updated' }))],
      [],
    ],
    [
      'a failed attempt (429, its own type) followed by the invoice is one effect',
      [live(invoice('att_1', 0, 'acme', '2026-11', { type: 'invoice.create_failed', error: { code: '429' } })), live(invoice('evt_1', 1))],
      [],
    ],
    [
      'an event older than the window behind the watermark is not compared',
      [live(invoice('evt_7', 40 * 24 * 60)), { input: invoice('evt_1', 0), watermark: at(40 * 24 * 60) }],
      [],
    ],
  ])('%s', (_label, inputs, expected) => {
    expect(replay(detector, inputs).signals).toEqual(expected);
  });
});

it('the same id from another matched source is another event, so a duplicate', () => {
  const twoSources = createDuplicateEffectDetector({ ...CONFIG, match: [...CONFIG.match, { source: 'billing-eu', type: 'invoice.created' }] });
  const { signals } = replay(twoSources, [live(invoice('evt_1', 0)), live(invoice('evt_1', 2, 'acme', '2026-11', { source: 'billing-eu', correlationId: 'c-eu' }))]);
  expect(signals.map((s) => [s.kind, s.at, s.details])).toEqual([['firing', at(2), { count: 2, events: 'evt_1, evt_1', correlationIds: 'c-evt_1, c-eu' }]]);
});

describe('duplicate business effect: settle collects a burst of retries into one signal', () => {
  const settled = createDuplicateEffectDetector({ ...CONFIG, settle: 10 * MIN });

  it('waits until the watermark is 10m past the first duplicate, then lists what happened by then', () => {
    const inputs = [live(invoice('evt_1', 0)), live(invoice('evt_7', 3)), live(invoice('evt_9', 4)), tick(12), tick(13), live(invoice('evt_11', 20))];
    const { signals } = replay(settled, inputs);
    expect(signals).toEqual([firing(['evt_1', 'evt_7', 'evt_9'], 3, 'c-evt_7')]);
    // Nothing before the watermark reaches 3m + 10m.
    expect(replay(settled, inputs.slice(0, 4)).signals).toEqual([]);
  });

  it('an invoice 11 minutes after the duplicate is counted but not listed in the signal', () => {
    const { signals, state } = replay(settled, [live(invoice('evt_1', 0)), live(invoice('evt_7', 3)), live(invoice('evt_9', 14))]);
    expect(signals).toEqual([firing(['evt_1', 'evt_7'], 3, 'c-evt_7')]);
    expect(state.keys.get(ACME_KEY)!.count).toBe(3);
  });
});

describe('duplicate business effect: end of the window and memory', () => {
  it('resolves when the window has passed the newest invoice, with the final count, and forgets the key', () => {
    const inputs = [live(invoice('evt_1', 0)), live(invoice('evt_7', 3)), live(invoice('evt_9', 60)), tick(60 + 35 * 24 * 60 - 1), tick(60 + 35 * 24 * 60)];
    const { signals, state } = replay(detector, inputs);
    expect(signals).toEqual([
      firing(['evt_1', 'evt_7'], 3, 'c-evt_7'),
      {
        ...firing(['evt_1', 'evt_7', 'evt_9'], 60 + 35 * 24 * 60, 'c-evt_9'),
        kind: 'resolved',
        summary: 'Resolved, no further duplicate can count after 5w: Account acme was invoiced 3 times for 2026-11 (invoices evt_1, evt_7, evt_9) — refund or void one',
        details: { count: 3, events: 'evt_1, evt_7, evt_9', correlationIds: 'c-evt_1, c-evt_7, c-evt_9', reason: 'window-passed' },
      },
    ]);
    expect(detector.size(state)).toBe(0);
  });

  it('a new invoice for the key after it was forgotten starts afresh', () => {
    const later = 36 * 24 * 60;
    const { signals } = replay(detector, [live(invoice('evt_1', 0)), tick(later), live(invoice('evt_2', later))]);
    expect(signals).toEqual([]);
  });

  it('holds at most maxKeys keys; the least recently touched is forgotten, and a firing one is resolved as evicted', () => {
    const small = createDuplicateEffectDetector({ ...CONFIG, maxKeys: 2 });
    const { signals, state } = replay(small, [
      live(invoice('evt_1', 0)),
      live(invoice('evt_7', 1)),
      live(invoice('evt_2', 2, 'globex')),
      live(invoice('evt_3', 3, 'initech')),
    ]);
    expect(small.size(state)).toBe(2);
    expect(state.counters.evicted).toBe(1);
    expect(signals.map((s) => [s.kind, s.key, s.at, s.details?.['reason']])).toEqual([
      ['firing', ACME_KEY, at(1), undefined],
      ['resolved', ACME_KEY, at(3), 'evicted'],
    ]);
  });

  it(`lists at most ${MAX_LISTED_EVENTS} event ids per key and keeps counting`, () => {
    const inputs = Array.from({ length: 25 }, (_, i) => live(invoice(`evt_${i}`, i)));
    const { state } = replay(detector, inputs);
    expect(state.keys.get(ACME_KEY)!.events).toHaveLength(MAX_LISTED_EVENTS);
    expect(state.keys.get(ACME_KEY)!.count).toBe(25);
  });

  it('counts events without a business key and events too old to compare', () => {
    const { state } = replay(detector, [live(invoice('evt_1', 0, null)), { input: invoice('evt_2', 0), watermark: at(36 * 24 * 60) }]);
    expect(state.counters).toEqual({ withoutBusinessKey: 1, tooOld: 1, evicted: 0, expired: 0 });
  });
});

describe('duplicate business effect: replays', () => {
  const stream = (): DetectorInput<WorkflowEvent>[] => [
    live(invoice('evt_1', 0)),
    live(invoice('evt_2', 1, 'globex')),
    live(invoice('evt_7', 3)),
    live(invoice('evt_8', 4, 'globex', '2026-10')),
    live(invoice('evt_9', 5, 'globex')),
    tick(10),
    live(invoice('evt_10', 11)),
    tick(36 * 24 * 60),
  ];

  it('the same events in the same order give the same signals', () => {
    const first = replay(detector, stream()).signals;
    expect(first.map((s) => [s.kind, s.key])).toEqual([
      ['firing', ACME_KEY],
      ['firing', '["globex","2026-11"]'],
      // In event-time order: globex's newest invoice (minute 5) is older than acme's (minute 11).
      ['resolved', '["globex","2026-11"]'],
      ['resolved', ACME_KEY],
    ]);
    expect(replay(detector, stream()).signals).toEqual(first);
  });

  it('redelivering every event changes no signal', () => {
    const redelivered = stream().flatMap((item): DetectorInput<WorkflowEvent>[] => ('input' in item ? [item, { ...item, input: { ...item.input, origin: { ...item.input.origin, offset: 'again' } } }] : [item]));
    expect(replay(detector, redelivered).signals).toEqual(replay(detector, stream()).signals);
  });

  it('ticking after every event gives the same signals as ticking once at the end', () => {
    const withTicks = stream().flatMap((item): DetectorInput<WorkflowEvent>[] => ('input' in item ? [item, { tick: item.watermark }] : [item]));
    expect(replay(detector, withTicks).signals).toEqual(replay(detector, stream()).signals);
  });
});
