import { describe, expect, it } from 'vitest';
import { createMissedDeadlineDetector, missedDeadlineSchema, type RunVerdict } from '../../src/alerts/detectors/missed-deadline.ts';
import { replay, type DetectorInput } from '../../src/alerts/detectors/replay.ts';
import type { DetectorSignal } from '../../src/alerts/types.ts';
import type { WorkflowDefinition } from '../../src/domain/workflow.ts';
import type { EventError, WorkflowEvent } from '../../src/domain/event.ts';
import { Stitcher } from '../../src/stitch/stitcher.ts';

const SEC = 1_000;
const MIN = 60 * SEC;
const DAY = 24 * 60 * MIN;
/** Fixed clock: the runs start on Tuesday 2026-11-03 09:00 UTC. */
const T0 = Date.UTC(2026, 10, 3, 9);
const at = (minute: number) => T0 + minute * MIN;

const PLAN_UPGRADE: WorkflowDefinition = {
  name: 'plan-upgrade',
  owner: 'billing-platform',
  description: 'A CRM plan upgrade reaches billing and entitlements, and support is told.',
  trigger: { source: 'crm', type: 'subscription.upgraded' },
  steps: [
    { name: 'invoice-updated', source: 'billing', type: 'invoice.updated', required: true, failOn: ['invoice.update_failed'] },
    { name: 'entitlement-activated', source: 'billing', type: 'entitlement.activated', required: true, failOn: ['entitlement.failed'] },
    { name: 'ticket-tagged', source: 'ticketing', type: 'ticket.tagged', required: false, failOn: [] },
  ],
  compensation: [{ name: 'upgrade-reverted', source: 'crm', type: 'subscription.upgrade_reverted' }],
  deadline: 5 * MIN,
};

const CONFIG = missedDeadlineSchema.parse({ name: 'upgrade-late', workflow: 'plan-upgrade' });
const detector = createMissedDeadlineDetector(CONFIG, PLAN_UPGRADE);

const BOTH = ['invoice-updated', 'entitlement-activated'];

/** A run's verdict as the stitcher hands it out; started at T0, deadline 5m. */
function verdict(version: number, state: RunVerdict['state'], overrides: Partial<RunVerdict> = {}): RunVerdict {
  return {
    runId: 'plan-upgrade:c-1',
    workflow: 'plan-upgrade',
    correlationId: 'c-1',
    state,
    startedAt: T0,
    deadlineAt: at(5),
    completedAt: 0,
    deadlineMissed: state === 'deadline_missed',
    missingSteps: BOTH,
    failedSteps: [],
    lastEventAt: T0,
    version,
    ...overrides,
  };
}
const seen = (run: RunVerdict, minute = 6): DetectorInput<RunVerdict> => ({ input: run, watermark: at(minute) });

const LATE = (missing: string) =>
  `plan-upgrade c-1 missed its 5m deadline (started 2026-11-03T09:00:00Z): ${missing} — expected: A CRM plan upgrade reaches billing and entitlements, and support is told.`;

function late(missing = 'still missing invoice-updated and entitlement-activated', run: Partial<RunVerdict> = {}): DetectorSignal {
  const steps = run.missingSteps ?? BOTH;
  return {
    kind: 'firing',
    detector: 'upgrade-late',
    key: 'plan-upgrade:c-1',
    workflow: 'plan-upgrade',
    owner: 'billing-platform',
    severity: 'error',
    summary: LATE(missing),
    correlationId: 'c-1',
    at: at(5),
    details: { missingSteps: steps.join(', '), failedSteps: (run.failedSteps ?? []).join(', '), deadlineAt: at(5) },
  };
}
function over(minute: number, reason: string, prefix: string, missing: string, run: Partial<RunVerdict>): DetectorSignal {
  const firing = late(missing, run);
  return { ...firing, kind: 'resolved', summary: prefix + firing.summary, at: at(minute), details: { ...firing.details, reason } };
}

const completedLate = verdict(3, 'completed', { completedAt: at(8), deadlineMissed: true, missingSteps: [], lastEventAt: at(8) });

describe('missed deadline: which verdicts signal', () => {
  it.each<[string, DetectorInput<RunVerdict>[], DetectorSignal[]]>([
    ['open, then completed in time: nothing', [seen(verdict(1, 'open'), 0), seen(verdict(2, 'completed', { completedAt: at(3), missingSteps: [] }), 3)], []],
    ['past the deadline with both steps missing: named in the summary', [seen(verdict(1, 'open'), 0), seen(verdict(2, 'deadline_missed'))], [late()]],
    [
      'one step missing',
      [seen(verdict(2, 'deadline_missed', { missingSteps: ['entitlement-activated'] }))],
      [late('still missing entitlement-activated', { missingSteps: ['entitlement-activated'] })],
    ],
    [
      'completed late: resolved when it completed',
      [seen(verdict(2, 'deadline_missed')), seen(completedLate, 8)],
      [late(), over(8, 'completed', 'Resolved, completed late at 2026-11-03T09:08:00Z: ', 'its required steps came late (completed 2026-11-03T09:08:00Z)', { missingSteps: [] })],
    ],
    [
      'first seen already completed late (a replay): both ends, for the record',
      [seen(completedLate, 8)],
      [
        late('its required steps came late (completed 2026-11-03T09:08:00Z)', { missingSteps: [] }),
        over(8, 'completed', 'Resolved, completed late at 2026-11-03T09:08:00Z: ', 'its required steps came late (completed 2026-11-03T09:08:00Z)', { missingSteps: [] }),
      ],
    ],
    ['a redelivered verdict is one signal', [seen(verdict(2, 'deadline_missed')), seen(verdict(2, 'deadline_missed'))], [late()]],
    [
      'a stale verdict after the resolve does not fire again',
      [seen(verdict(2, 'deadline_missed')), seen(completedLate, 8), seen(verdict(2, 'deadline_missed'), 9)],
      [late(), over(8, 'completed', 'Resolved, completed late at 2026-11-03T09:08:00Z: ', 'its required steps came late (completed 2026-11-03T09:08:00Z)', { missingSteps: [] })],
    ],
    [
      'a failed step past the deadline is named as failed',
      [seen(verdict(2, 'failed', { deadlineMissed: true, missingSteps: ['entitlement-activated'], failedSteps: ['entitlement-activated'] }))],
      [late('still missing entitlement-activated (failed)', { missingSteps: ['entitlement-activated'], failedSteps: ['entitlement-activated'] })],
    ],
    [
      'a transient failure healed by a retry before the deadline: nothing',
      [
        seen(verdict(1, 'open'), 0),
        seen(verdict(2, 'failed', { missingSteps: ['entitlement-activated'], failedSteps: ['entitlement-activated'] }), 1),
        seen(verdict(3, 'completed', { completedAt: at(2), missingSteps: [] }), 2),
      ],
      [],
    ],
    [
      'compensated after the deadline: resolved when compensated',
      [seen(verdict(2, 'deadline_missed')), seen(verdict(3, 'compensated', { lastEventAt: at(9) }), 9)],
      [late(), over(9, 'compensated', 'Resolved, compensated: ', 'still missing invoice-updated and entitlement-activated', {})],
    ],
    [
      'a late event shows it completed in time after all: resolved',
      [seen(verdict(2, 'deadline_missed')), seen(verdict(3, 'completed', { completedAt: at(4), missingSteps: [], lastEventAt: at(4) }), 7)],
      [late(), over(5, 'completed', 'Resolved, completed in time after all: ', 'its required steps were done in time after all (completed 2026-11-03T09:04:00Z)', { missingSteps: [] })],
    ],
    ['runs of other workflows are not this detector’s', [seen(verdict(2, 'deadline_missed', { workflow: 'support-ticket', runId: 'support-ticket:c-1' }))], []],
  ])('%s', (_label, inputs, expected) => {
    expect(replay(detector, inputs).signals).toEqual(expected);
  });

  it('remembers only runs that missed their deadline', () => {
    const { state } = replay(detector, [seen(verdict(1, 'open'), 0), seen({ ...verdict(2, 'deadline_missed'), runId: 'plan-upgrade:c-2', correlationId: 'c-2' })]);
    expect(detector.size(state)).toBe(1);
  });

  it('impact, owner and severity can be set; the impact replaces the description', () => {
    const custom = createMissedDeadlineDetector(
      missedDeadlineSchema.parse({ name: 'upgrade-late', workflow: 'plan-upgrade', owner: 'revenue-ops', severity: 'critical', impact: 'the customer pays for a plan they cannot use' }),
      PLAN_UPGRADE,
    );
    const [signal] = replay(custom, [seen(verdict(2, 'deadline_missed', { businessKey: 'account=acme' }))]).signals;
    expect(signal).toMatchObject({
      owner: 'revenue-ops',
      severity: 'critical',
      businessKey: 'account=acme',
      summary: 'plan-upgrade c-1 missed its 5m deadline (started 2026-11-03T09:00:00Z): still missing invoice-updated and entitlement-activated — the customer pays for a plan they cannot use',
    });
  });
});

describe('missed deadline: memory', () => {
  it('a run still late 7 days after its deadline is forgotten and resolved as such; a resolved one is forgotten quietly', () => {
    const other = { ...completedLate, runId: 'plan-upgrade:c-2', correlationId: 'c-2' };
    const { signals, state } = replay(detector, [seen(verdict(2, 'deadline_missed')), seen(other, 8), { tick: at(5) + 7 * DAY - 1 }, { tick: at(8) + 7 * DAY }]);
    expect(signals.slice(3)).toEqual([
      { ...late(), kind: 'resolved', summary: `No longer watched (still late 1w after its deadline): ${LATE('still missing invoice-updated and entitlement-activated')}`, at: at(5) + 7 * DAY, details: { ...late().details, reason: 'forgotten' } },
    ]);
    expect(detector.size(state)).toBe(0);
  });
  it('a stale verdict does not replace a newer one: the forgotten run is described as last seen', () => {
    const newer = verdict(3, 'deadline_missed', { missingSteps: ['entitlement-activated'], lastEventAt: at(7) });
    const { signals, state } = replay(detector, [seen(newer, 7), seen(verdict(2, 'deadline_missed'), 7), { tick: at(5) + 7 * DAY }]);
    expect(state.counters.stale).toBe(1);
    expect(signals.map((s) => [s.kind, s.details?.['missingSteps']])).toEqual([
      ['firing', 'entitlement-activated'],
      ['resolved', 'entitlement-activated'],
    ]);
  });
});

describe('missed deadline: from the stitcher’s verdicts', () => {
  const OPTIONS = {
    dedupeWindow: 10 * MIN,
    dedupeMaxKeys: 10_000,
    holdUnmatchedFor: 60 * MIN,
    allowedLateness: 30 * SEC,
    idleAdvanceAfter: 30 * SEC,
    closedRunRetention: 15 * MIN,
    closedRunMemory: 10_000,
    sweepEvery: 0,
  };
  let offset = 0;
  const event = (source: string, type: string, id: string, time: number, error?: EventError): WorkflowEvent => ({
    source,
    id,
    type,
    time,
    correlationId: 'c-1',
    ...(error ? { error } : {}),
    origin: { topic: `${source}.events`, partition: 0, offset: String(offset++) },
  });

  /** Events arrive as they happen (wall clock = event time), then the clock runs on to `until`; run verdicts go to the detector. */
  function pipe(events: WorkflowEvent[], until: number): DetectorSignal[] {
    const stitcher = new Stitcher([PLAN_UPGRADE], OPTIONS);
    let state = detector.initial();
    const signals: DetectorSignal[] = [];
    const feed = (now: number) => {
      for (const run of stitcher.drain(now).runs) {
        const step = detector.apply(state, run, stitcher.watermarkAt(now));
        state = step.state;
        signals.push(...step.signals);
      }
    };
    for (const e of events) {
      stitcher.apply(e, e.time);
      feed(e.time);
    }
    for (let now = events[events.length - 1]!.time; now <= until; now += 10 * SEC) {
      stitcher.tick(now);
      feed(now);
    }
    return signals;
  }

  it('a 429 on the entitlement that succeeds on retry: nothing', () => {
    const signals = pipe(
      [
        event('crm', 'subscription.upgraded', 'u1', at(0)),
        event('billing', 'invoice.updated', 'b1', at(1)),
        event('billing', 'entitlement.failed', 'b2', at(2), { code: '429' }),
        event('billing', 'entitlement.activated', 'b3', at(3)),
      ],
      at(20),
    );
    expect(signals).toEqual([]);
  });

  it('a 429 that is never retried into success: the missed deadline names the failed step', () => {
    const signals = pipe(
      [event('crm', 'subscription.upgraded', 'u1', at(0)), event('billing', 'invoice.updated', 'b1', at(1)), event('billing', 'entitlement.failed', 'b2', at(2), { code: '429' })],
      at(20),
    );
    expect(signals).toEqual([late('still missing entitlement-activated (failed)', { missingSteps: ['entitlement-activated'], failedSteps: ['entitlement-activated'] })]);
  });
});

describe('missed deadline: replays', () => {
  const stream = (): DetectorInput<RunVerdict>[] => [
    seen(verdict(1, 'open'), 0),
    seen({ ...verdict(1, 'open'), runId: 'plan-upgrade:c-2', correlationId: 'c-2' }, 0),
    seen(verdict(2, 'deadline_missed')),
    seen({ ...verdict(2, 'deadline_missed'), runId: 'plan-upgrade:c-2', correlationId: 'c-2' }),
    seen(completedLate, 8),
  ];

  it('the same verdicts in the same order give the same signals', () => {
    const first = replay(detector, stream()).signals;
    expect(first.map((s) => [s.kind, s.key])).toEqual([
      ['firing', 'plan-upgrade:c-1'],
      ['firing', 'plan-upgrade:c-2'],
      ['resolved', 'plan-upgrade:c-1'],
    ]);
    expect(replay(detector, stream()).signals).toEqual(first);
  });

  it('every verdict handed out twice changes no signal', () => {
    const twice = stream().flatMap((item) => [item, item]);
    expect(replay(detector, twice).signals).toEqual(replay(detector, stream()).signals);
  });
});
