import { describe, expect, it } from 'vitest';
import { compileClassifier } from '../../src/alerts/detectors/error-class.ts';
import { createPartialFailureDetector, partialFailureSchema } from '../../src/alerts/detectors/partial-failure.ts';
import { replay, type DetectorInput } from '../../src/alerts/detectors/replay.ts';
import type { DetectorSignal } from '../../src/alerts/types.ts';
import type { WorkflowDefinition } from '../../src/domain/workflow.ts';
import type { EventError, WorkflowEvent } from '../../src/domain/event.ts';

const MIN = 60_000;
const DAY = 24 * 60;
/** Fixed clock: event times are minutes after Tuesday 2026-11-03 09:00 UTC. */
const T0 = Date.UTC(2026, 10, 3, 9);
const at = (minute: number) => T0 + minute * MIN;

const PLAN_UPGRADE: WorkflowDefinition = {
  name: 'plan-upgrade',
  owner: 'billing-platform',
  trigger: { source: 'crm', type: 'subscription.upgraded' },
  steps: [
    { name: 'charge', source: 'billing', type: 'charge.succeeded', required: true, failOn: ['charge.failed'] },
    { name: 'entitlement-activated', source: 'billing', type: 'entitlement.activated', required: true, failOn: ['entitlement.failed'] },
    { name: 'ticket-tagged', source: 'ticketing', type: 'ticket.tagged', required: false, failOn: [] },
  ],
  compensation: [{ name: 'refund-issued', source: 'billing', type: 'charge.refunded' }],
  deadline: 5 * MIN,
};

const CONFIG = partialFailureSchema.parse({ name: 'charged-not-entitled', workflow: 'plan-upgrade', irreversible: ['charge'] });
const detector = createPartialFailureDetector(CONFIG, PLAN_UPGRADE);

let offset = 0;
function billing(type: string, id: string, minute: number, error?: EventError, correlationId = 'c-1'): WorkflowEvent {
  return {
    source: 'billing',
    id,
    type,
    time: at(minute),
    correlationId,
    data: { account_id: 'acme' },
    ...(error ? { error } : {}),
    origin: { topic: 'billing.webhooks', partition: 0, offset: String(offset++) },
  };
}
const live = (event: WorkflowEvent): DetectorInput<WorkflowEvent> => ({ input: event, watermark: event.time });
const tick = (minute: number): DetectorInput<WorkflowEvent> => ({ tick: at(minute) });
const charged = (id: string, minute: number, correlationId?: string) => live(billing('charge.succeeded', id, minute, undefined, correlationId));
const entitlementFailed = (id: string, minute: number, error?: EventError, correlationId?: string) => live(billing('entitlement.failed', id, minute, error, correlationId));
const entitled = (id: string, minute: number) => live(billing('entitlement.activated', id, minute));
const refunded = (id: string, minute: number) => live(billing('charge.refunded', id, minute));

const HALF_DONE = (failure: string) =>
  `plan-upgrade c-1 is half done: charge (ch_1) cannot be undone, but entitlement-activated (${failure}) failed permanently — compensation (refund-issued) or a forward fix is needed`;

function halfDone(minute: number, failure = 'en_2: 400 validation_error'): DetectorSignal {
  return {
    kind: 'firing',
    detector: 'charged-not-entitled',
    key: 'plan-upgrade:c-1',
    workflow: 'plan-upgrade',
    owner: 'billing-platform',
    severity: 'critical',
    summary: HALF_DONE(failure),
    correlationId: 'c-1',
    at: at(minute),
    details: { irreversibleDone: 'charge', failedSteps: 'entitlement-activated' },
  };
}
function healed(minute: number, reason: 'fixed' | 'compensated', by: string, failure = 'en_2: 400 validation_error'): DetectorSignal {
  return {
    ...halfDone(minute, failure),
    kind: 'resolved',
    summary: `Resolved, ${reason === 'fixed' ? 'fixed forward' : 'compensated'} (${by}): ${HALF_DONE(failure)}`,
    details: { irreversibleDone: 'charge', failedSteps: 'entitlement-activated', reason },
  };
}

const VALIDATION = { code: '400', class: 'validation_error' };

describe('partial failure: which streams signal', () => {
  it.each<[string, DetectorInput<WorkflowEvent>[], DetectorSignal[]]>([
    ['charged, then the entitlement failed permanently: half done', [charged('ch_1', 0), entitlementFailed('en_2', 1, VALIDATION)], [halfDone(1)]],
    ['charged and entitled: nothing', [charged('ch_1', 0), entitled('en_3', 1), tick(8 * DAY)], []],
    ['a 429 on the entitlement followed by success: nothing, ever', [charged('ch_1', 0), entitlementFailed('en_2', 1, { code: '429' }), entitled('en_3', 2), tick(8 * DAY)], []],
    ['a 503 that was never retried into success is no partial failure (the missed deadline tells)', [charged('ch_1', 0), entitlementFailed('en_2', 1, { code: '503' }), tick(60)], []],
    ['a timeout class is transient too', [charged('ch_1', 0), entitlementFailed('en_2', 1, { class: 'GatewayTimeout' }), tick(60)], []],
    ['a transient then a permanent failure: half done at the permanent one', [charged('ch_1', 0), entitlementFailed('en_1', 1, { code: '429' }), entitlementFailed('en_2', 2, VALIDATION)], [halfDone(2)]],
    ['the entitlement failed before the charge arrived: half done once charged', [entitlementFailed('en_2', 0, VALIDATION), charged('ch_1', 3)], [halfDone(3)]],
    ['a failure without a charge is not half done: nothing was done that cannot be undone', [entitlementFailed('en_2', 0, VALIDATION), tick(60)], []],
    ['the charge itself failing is not half done either', [live(billing('charge.failed', 'ch_0', 0, { code: 'card_declined' })), tick(60)], []],
    ['a forward fix resolves it', [charged('ch_1', 0), entitlementFailed('en_2', 1, VALIDATION), entitled('en_3', 9)], [halfDone(1), healed(9, 'fixed', 'entitlement.activated en_3')]],
    ['compensation resolves it', [charged('ch_1', 0), entitlementFailed('en_2', 1, VALIDATION), refunded('rf_4', 9)], [halfDone(1), healed(9, 'compensated', 'charge.refunded rf_4')]],
    ['a success that arrived before the (late) failure wins: nothing', [charged('ch_1', 0), entitled('en_3', 2), { input: billing('entitlement.failed', 'en_2', 1, VALIDATION), watermark: at(2) }], []],
    ['compensated before the failure arrived: nothing', [charged('ch_1', 0), refunded('rf_4', 2), { input: billing('entitlement.failed', 'en_2', 1, VALIDATION), watermark: at(2) }], []],
    ['a failure with no error at all counts as permanent by default', [charged('ch_1', 0), entitlementFailed('en_2', 1)], [halfDone(1, 'en_2')]],
    ['a redelivered failure is one signal', [charged('ch_1', 0), entitlementFailed('en_2', 1, VALIDATION), entitlementFailed('en_2', 1, VALIDATION), charged('ch_1', 0)], [halfDone(1)]],
    ['another run is another story', [charged('ch_1', 0, 'c-2'), entitlementFailed('en_2', 1, VALIDATION, 'c-3'), tick(60)], []],
  ])('%s', (_label, inputs, expected) => {
    expect(replay(detector, inputs).signals).toEqual(expected);
  });

  it('unknownErrors: transient waits for the deadline instead', () => {
    const lenient = createPartialFailureDetector({ ...CONFIG, unknownErrors: 'transient' }, PLAN_UPGRADE);
    const { signals, state } = replay(lenient, [charged('ch_1', 0), entitlementFailed('en_2', 1), entitlementFailed('en_5', 2, { code: 'E_ODD' })]);
    expect(signals).toEqual([]);
    expect(state.counters.transientFailures).toBe(2);
  });

  it('configured error rules win over the built-in ones', () => {
    const classify = compileClassifier({ rules: [{ code: '409', is: 'transient' }, { code: '503', class: 'maintenance', is: 'permanent' }], defaults: true });
    const custom = createPartialFailureDetector(CONFIG, PLAN_UPGRADE, classify);
    expect(replay(custom, [charged('ch_1', 0), entitlementFailed('en_2', 1, { code: '409' }), tick(60)]).signals).toEqual([]);
    expect(replay(custom, [charged('ch_1', 0), entitlementFailed('en_2', 1, { code: '503', class: 'maintenance' })]).signals).toEqual([halfDone(1, 'en_2: 503 maintenance')]);
  });

  it('the owner, severity, business key and summary can be set', () => {
    const custom = createPartialFailureDetector(
      partialFailureSchema.parse({
        name: 'charged-not-entitled',
        workflow: 'plan-upgrade',
        irreversible: ['charge'],
        owner: 'payments',
        severity: 'error',
        businessKey: { account: 'account_id' },
        summary: 'Account {account} paid for an upgrade it did not get ({failed}) — refund or activate it',
      }),
      PLAN_UPGRADE,
    );
    const [signal] = replay(custom, [charged('ch_1', 0), entitlementFailed('en_2', 1, VALIDATION)]).signals;
    expect(signal).toMatchObject({
      owner: 'payments',
      severity: 'error',
      businessKey: 'account=acme',
      summary: 'Account acme paid for an upgrade it did not get (entitlement-activated (en_2: 400 validation_error)) — refund or activate it',
    });
  });

  it('refuses an irreversible step the workflow does not have', () => {
    expect(() => createPartialFailureDetector({ ...CONFIG, irreversible: ['chrage'] }, PLAN_UPGRADE)).toThrow('partial failure "charged-not-entitled": no step "chrage" in workflow "plan-upgrade"');
  });
});

describe('partial failure: memory', () => {
  it('forgets a run 7 days after its last event; a half-done one is resolved as forgotten', () => {
    const { signals, state } = replay(detector, [charged('ch_1', 0), entitlementFailed('en_2', 1, VALIDATION), tick(1 + 7 * DAY - 1), tick(1 + 7 * DAY)]);
    expect(signals).toEqual([
      halfDone(1),
      {
        ...halfDone(1 + 7 * DAY),
        kind: 'resolved',
        summary: `No longer watched after 1w without events: ${HALF_DONE('en_2: 400 validation_error')}`,
        details: { irreversibleDone: 'charge', failedSteps: 'entitlement-activated', reason: 'forgotten' },
      },
    ]);
    expect(detector.size(state)).toBe(0);
  });

  it('holds at most maxKeys runs', () => {
    const small = createPartialFailureDetector({ ...CONFIG, maxKeys: 2 }, PLAN_UPGRADE);
    const { state } = replay(small, [charged('a', 0, 'c-1'), charged('b', 1, 'c-2'), charged('c', 2, 'c-3')]);
    expect([small.size(state), state.counters.evicted]).toEqual([2, 1]);
    expect([...state.runs.keys()]).toEqual(['c-2', 'c-3']);
  });
});

describe('partial failure: replays', () => {
  const stream = (): DetectorInput<WorkflowEvent>[] => [
    charged('ch_1', 0, 'c-1'),
    charged('ch_7', 0, 'c-7'),
    entitlementFailed('en_2', 1, VALIDATION, 'c-1'),
    entitlementFailed('en_8', 1, { code: '429' }, 'c-7'),
    live(billing('entitlement.activated', 'en_9', 2, undefined, 'c-7')),
    live(billing('entitlement.activated', 'en_3', 4, undefined, 'c-1')),
    tick(10),
  ];

  it('the same events in the same order give the same signals', () => {
    const first = replay(detector, stream()).signals;
    expect(first).toEqual([halfDone(1), healed(4, 'fixed', 'entitlement.activated en_3')]);
    expect(replay(detector, stream()).signals).toEqual(first);
  });

  it('redelivering every event changes no signal', () => {
    const redelivered = stream().flatMap((item): DetectorInput<WorkflowEvent>[] => ('input' in item ? [item, item] : [item]));
    expect(replay(detector, redelivered).signals).toEqual(replay(detector, stream()).signals);
  });
});
