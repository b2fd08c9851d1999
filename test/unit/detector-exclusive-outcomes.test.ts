import { describe, expect, it } from 'vitest';
import { ownedBy } from '../../src/alerts/detectors/schema-parts.ts';
import { createExclusiveOutcomesDetector, exclusiveOutcomesSchema } from '../../src/alerts/detectors/exclusive-outcomes.ts';
import { replay, type DetectorInput } from '../../src/alerts/detectors/replay.ts';
import type { DetectorSignal } from '../../src/alerts/types.ts';
import type { WorkflowEvent } from '../../src/domain/event.ts';

const MIN = 60_000;
const DAY = 24 * 60;
/** Fixed clock: event times are minutes after Tuesday 2026-11-03 09:00 UTC. */
const T0 = Date.UTC(2026, 10, 3, 9);
const at = (minute: number) => T0 + minute * MIN;

const RAW = {
  name: 'invoice-voided-and-paid',
  owner: 'billing-platform',
  outcomes: [
    { name: 'voided', source: 'billing', type: 'invoice.voided' },
    { name: 'paid', source: 'billing', type: 'invoice.paid' },
  ],
  key: { invoice: 'invoice_id' },
  summary: 'Invoice {invoice} was both voided ({voided}) and paid ({paid}) — refund the payment or reinstate the invoice',
};
const CONFIG = ownedBy(exclusiveOutcomesSchema.parse(RAW));
const detector = createExclusiveOutcomesDetector(CONFIG);

let offset = 0;
function billing(type: string, id: string, minute: number, invoiceId = 'in_1', extra: Partial<WorkflowEvent> = {}): WorkflowEvent {
  return {
    source: 'billing',
    id,
    type,
    time: at(minute),
    correlationId: `c-${id}`,
    data: { invoice_id: invoiceId, account_id: 'acme' },
    origin: { topic: 'billing.webhooks', partition: 0, offset: String(offset++) },
    ...extra,
  };
}
const live = (event: WorkflowEvent): DetectorInput<WorkflowEvent> => ({ input: event, watermark: event.time });
const tick = (minute: number): DetectorInput<WorkflowEvent> => ({ tick: at(minute) });
const voided = (id: string, minute: number, invoiceId?: string) => live(billing('invoice.voided', id, minute, invoiceId));
const paid = (id: string, minute: number, invoiceId?: string) => live(billing('invoice.paid', id, minute, invoiceId));

function conflict(voidedId: string, paidId: string, minute: number, correlationId: string, invoiceId = 'in_1'): DetectorSignal {
  return {
    kind: 'firing',
    detector: 'invoice-voided-and-paid',
    key: JSON.stringify([invoiceId]),
    owner: 'billing-platform',
    severity: 'critical',
    summary: `Invoice ${invoiceId} was both voided (${voidedId}) and paid (${paidId}) — refund the payment or reinstate the invoice`,
    correlationId,
    businessKey: `invoice=${invoiceId}`,
    at: at(minute),
    details: { outcomes: 'voided, paid', events: `${voidedId}, ${paidId}` },
  };
}

describe('exclusive outcomes: which streams signal', () => {
  it.each<[string, DetectorInput<WorkflowEvent>[], DetectorSignal[]]>([
    ['voided only: nothing', [voided('ev_1', 0), tick(60)], []],
    ['voided, then paid: one signal when the payment happened', [voided('ev_1', 0), paid('ev_2', 5)], [conflict('ev_1', 'ev_2', 5, 'c-ev_2')]],
    ['paid, then voided: one signal when the voiding happened', [paid('ev_2', 0), voided('ev_1', 5)], [conflict('ev_1', 'ev_2', 5, 'c-ev_1')]],
    [
      'a payment that arrives late but happened later: the same signal as in time order',
      [paid('ev_2', 5), { input: billing('invoice.voided', 'ev_1', 0), watermark: at(5) }],
      [conflict('ev_1', 'ev_2', 5, 'c-ev_2')],
    ],
    ['a redelivered voiding is no second outcome', [voided('ev_1', 0), voided('ev_1', 0), tick(60)], []],
    ['paid twice is not this detector’s problem (duplicates are)', [paid('ev_2', 0), paid('ev_3', 1), tick(60)], []],
    ['another invoice is another thing', [voided('ev_1', 0, 'in_1'), paid('ev_2', 5, 'in_2')], []],
    ['more outcomes after the conflict: still one signal', [voided('ev_1', 0), paid('ev_2', 5), paid('ev_3', 6), voided('ev_4', 7)], [conflict('ev_1', 'ev_2', 5, 'c-ev_2')]],
    [
      'a payment attempt that failed with a 429 (its own type) is no payment: nothing',
      [voided('ev_1', 0), live(billing('invoice.payment_failed', 'ev_2', 1, 'in_1', { error: { code: '429' } }))],
      [],
    ],
    ['outcomes 30 days apart are still compared', [voided('ev_1', 0), paid('ev_2', 30 * DAY)], [conflict('ev_1', 'ev_2', 30 * DAY, 'c-ev_2')]],
    ['outcomes further apart than the window are not', [voided('ev_1', 0), tick(30 * DAY + 1), paid('ev_2', 30 * DAY + 1)], []],
    ['outcomes without the invoice id are not compared', [live(billing('invoice.voided', 'ev_1', 0, 'in_1', { data: {} })), live(billing('invoice.paid', 'ev_2', 1, 'in_1', { data: {} }))], []],
  ])('%s', (_label, inputs, expected) => {
    expect(replay(detector, inputs).signals).toEqual(expected);
  });

  it('resolves once the window has passed its newest outcome, and forgets the invoice', () => {
    const { signals, state } = replay(detector, [voided('ev_1', 0), paid('ev_2', 5), tick(5 + 30 * DAY)]);
    expect(signals).toEqual([
      conflict('ev_1', 'ev_2', 5, 'c-ev_2'),
      {
        ...conflict('ev_1', 'ev_2', 5 + 30 * DAY, 'c-ev_2'),
        kind: 'resolved',
        summary: 'Resolved, outcomes no longer compared after 30d: Invoice in_1 was both voided (ev_1) and paid (ev_2) — refund the payment or reinstate the invoice',
        details: { outcomes: 'voided, paid', events: 'ev_1, ev_2', reason: 'window-passed' },
      },
    ]);
    expect(detector.size(state)).toBe(0);
  });

  it('with three outcomes, any two together conflict, and the signal lists what happened', () => {
    const three = createExclusiveOutcomesDetector(
      ownedBy(exclusiveOutcomesSchema.parse({ ...RAW, summary: undefined, outcomes: [...RAW.outcomes, { name: 'refunded', source: 'billing', type: 'charge.refunded' }] })),
    );
    const { signals } = replay(three, [live(billing('charge.refunded', 'ev_5', 0)), paid('ev_2', 3)]);
    expect(signals.map((s) => [s.kind, s.at, s.summary])).toEqual([
      ['firing', at(3), 'invoice=in_1: paid (ev_2) and refunded (ev_5) must not both happen, but did — the records disagree on what the customer got; reconcile by hand'],
    ]);
  });

  it('keyed by correlation ID when no business key is configured', () => {
    const byCorrelation = createExclusiveOutcomesDetector(ownedBy(exclusiveOutcomesSchema.parse({ ...RAW, key: undefined, summary: undefined })));
    const { signals } = replay(byCorrelation, [
      live(billing('invoice.voided', 'ev_1', 0, 'in_1', { correlationId: 'run-9' })),
      live(billing('invoice.paid', 'ev_2', 1, 'in_1', { correlationId: 'run-9' })),
    ]);
    expect(signals).toEqual([
      {
        kind: 'firing',
        detector: 'invoice-voided-and-paid',
        key: 'run-9',
        owner: 'billing-platform',
        severity: 'critical',
        summary: 'correlation run-9: voided (ev_1) and paid (ev_2) must not both happen, but did — the records disagree on what the customer got; reconcile by hand',
        correlationId: 'run-9',
        at: at(1),
        details: { outcomes: 'voided, paid', events: 'ev_1, ev_2' },
      },
    ]);
  });

  it('holds at most maxKeys things; a firing one pushed out is resolved as evicted', () => {
    const small = createExclusiveOutcomesDetector({ ...CONFIG, maxKeys: 1 });
    const { signals, state } = replay(small, [voided('ev_1', 0), paid('ev_2', 1), voided('ev_3', 2, 'in_2')]);
    expect(small.size(state)).toBe(1);
    expect(signals.map((s) => [s.kind, s.at, s.details?.['reason']])).toEqual([
      ['firing', at(1), undefined],
      ['resolved', at(2), 'evicted'],
    ]);
  });
});

describe('exclusive outcomes: replays', () => {
  const stream = (): DetectorInput<WorkflowEvent>[] => [
    voided('ev_1', 0, 'in_1'),
    paid('ev_2', 1, 'in_2'),
    paid('ev_3', 2, 'in_1'),
    voided('ev_4', 3, 'in_3'),
    paid('ev_5', 4, 'in_2'),
    voided('ev_6', 5, 'in_2'),
    tick(31 * DAY),
  ];

  it('the same events in the same order give the same signals', () => {
    const first = replay(detector, stream()).signals;
    expect(first.map((s) => [s.kind, s.key, (s.at - T0) / MIN])).toEqual([
      ['firing', '["in_1"]', 2],
      ['firing', '["in_2"]', 5],
      ['resolved', '["in_1"]', 2 + 30 * DAY],
      ['resolved', '["in_2"]', 5 + 30 * DAY],
    ]);
    expect(replay(detector, stream()).signals).toEqual(first);
  });

  it('redelivering every event changes no signal', () => {
    const redelivered = stream().flatMap((item): DetectorInput<WorkflowEvent>[] => ('input' in item ? [item, item] : [item]));
    expect(replay(detector, redelivered).signals).toEqual(replay(detector, stream()).signals);
  });
});
