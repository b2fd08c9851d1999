import { describe, expect, it } from 'vitest';
import type { WorkflowDefinition } from '../../src/domain/workflow.ts';
import { SloJudge, sloVerdict, type SloVerdict } from '../../src/slo/outcome.ts';
import { defaultTiers } from '../../src/slo/burn-rate.ts';
import type { Indicator, SloDefinition } from '../../src/slo/types.ts';
import type { WorkflowEvent } from '../../src/domain/event.ts';
import { newRun, recordOutcome, type WorkflowRun } from '../../src/stitch/run.ts';
import type { RunState } from '../../src/domain/records.ts';
import { Stitcher } from '../../src/stitch/stitcher.ts';

const SEC = 1_000;
const MIN = 60 * SEC;
const T0 = Date.UTC(2026, 10, 20, 9);
const LATENESS = 30 * SEC;

const WORKFLOW: WorkflowDefinition = {
  name: 'plan-upgrade',
  owner: 'billing-platform',
  trigger: { source: 'crm', type: 'subscription.upgraded' },
  steps: [
    { name: 'invoice', source: 'billing', type: 'invoice.updated', required: true, failOn: [] },
    { name: 'entitlement', source: 'billing', type: 'entitlement.activated', required: true, failOn: ['entitlement.failed'] },
    { name: 'ticket', source: 'ticketing', type: 'ticket.tagged', required: false, failOn: [] },
  ],
  compensation: [{ name: 'reverted', source: 'crm', type: 'subscription.upgrade_reverted' }],
  deadline: 10 * MIN,
};

function slo(name: string, indicator: Indicator): SloDefinition {
  return {
    name,
    workflow: 'plan-upgrade',
    owner: 'billing-platform',
    objective: 0.99,
    window: { kind: 'rolling', durationMs: 28 * 86_400_000 },
    indicator,
    alerting: { tiers: defaultTiers(28 * 86_400_000), minEvents: 20 },
    origin: 'config',
  };
}

const WITHIN_5M = slo('sync-5m', { kind: 'completed-within', thresholdMs: 5 * MIN, steps: ['invoice', 'entitlement'] });
const SUCCESS = slo('success', { kind: 'success-ratio' });
const LATENCY = slo('invoice-to-entitlement-1m', { kind: 'step-latency', from: 'invoice', to: 'entitlement', thresholdMs: MIN });

/** A run started at T0 with the given step outcomes (minutes after T0) and state. */
function run(steps: Record<string, number | 'failed'>, state: RunState = 'open'): WorkflowRun {
  const r = newRun(WORKFLOW, event('subscription.upgraded', 'crm', 0));
  for (const [name, at] of Object.entries(steps)) {
    recordOutcome(r, {
      name,
      kind: name === 'reverted' ? 'compensation' : 'step',
      status: at === 'failed' ? 'failed' : 'done',
      time: at === 'failed' ? T0 : T0 + at * MIN,
      source: 'billing',
      eventId: `${name}-1`,
    });
  }
  r.state = state;
  return r;
}

function event(type: string, source: string, atMs: number, correlationId = 'c-1', id = `${type}-${correlationId}`): WorkflowEvent {
  return { source, id, type, time: T0 + atMs, correlationId, origin: { topic: `${source}.events`, partition: 0, offset: '0' } };
}

describe('sloVerdict', () => {
  const cases: [string, SloDefinition, WorkflowRun, number, SloVerdict][] = [
    ['completed within: both steps by 4m → good at start + 5m', WITHIN_5M, run({ invoice: 1, entitlement: 4 }), T0 + MIN, { kind: 'counted', due: T0 + 5 * MIN, good: true }],
    ['completed within: exactly at 5m is still good', WITHIN_5M, run({ invoice: 1, entitlement: 5 }), T0 + 5 * MIN, { kind: 'counted', due: T0 + 5 * MIN, good: true }],
    ['completed within: done at 6m → bad, known at once', WITHIN_5M, run({ invoice: 1, entitlement: 6 }), T0 + 6 * MIN, { kind: 'counted', due: T0 + 5 * MIN, good: false }],
    ['completed within: one step missing, before due + lateness → pending', WITHIN_5M, run({ invoice: 1 }), T0 + 5 * MIN + LATENESS - 1, { kind: 'pending', decideAt: T0 + 5 * MIN + LATENESS }],
    ['completed within: one step missing at due + lateness → bad from then on', WITHIN_5M, run({ invoice: 1 }), T0 + 5 * MIN + LATENESS, { kind: 'counted', due: T0 + 5 * MIN, good: false }],
    ['completed within: the optional step is not needed', WITHIN_5M, run({ invoice: 1, entitlement: 2 }), T0 + 2 * MIN, { kind: 'counted', due: T0 + 5 * MIN, good: true }],
    ['success ratio: completed → good at the deadline', SUCCESS, run({ invoice: 1, entitlement: 2 }, 'completed'), T0 + 2 * MIN, { kind: 'counted', due: T0 + 10 * MIN, good: true }],
    ['success ratio: compensated → bad', SUCCESS, run({ invoice: 1, reverted: 3 }, 'compensated'), T0 + 3 * MIN, { kind: 'counted', due: T0 + 10 * MIN, good: false }],
    ['success ratio: failed before the deadline → still pending (it may heal)', SUCCESS, run({ entitlement: 'failed' }, 'failed'), T0 + 3 * MIN, { kind: 'pending', decideAt: T0 + 10 * MIN + LATENESS }],
    ['success ratio: failed at deadline + lateness → bad', SUCCESS, run({ entitlement: 'failed' }, 'failed'), T0 + 10 * MIN + LATENESS, { kind: 'counted', due: T0 + 10 * MIN, good: false }],
    ['step latency: 50 s between the steps → good at invoice + 1m', LATENCY, run({ invoice: 1, entitlement: 1 + 50 / 60 }), T0 + 2 * MIN, { kind: 'counted', due: T0 + 2 * MIN, good: true }],
    ['step latency: 2m between the steps → bad', LATENCY, run({ invoice: 1, entitlement: 3 }), T0 + 3 * MIN, { kind: 'counted', due: T0 + 2 * MIN, good: false }],
    ['step latency: no first step → not counted', LATENCY, run({ entitlement: 3 }), T0 + 60 * MIN, { kind: 'not-counted' }],
    ['step latency: second step missing past due + lateness → bad', LATENCY, run({ invoice: 1 }), T0 + 2 * MIN + LATENESS, { kind: 'counted', due: T0 + 2 * MIN, good: false }],
  ];
  it.each(cases)('%s', (_name, definition, r, watermark, expected) => {
    expect(sloVerdict(r, definition, watermark, LATENESS)).toEqual(expected);
  });
});

describe('Stitcher: SLO outcomes', () => {
  const options = {
    dedupeWindow: 10 * MIN,
    dedupeMaxKeys: 10_000,
    holdUnmatchedFor: 60 * MIN,
    allowedLateness: LATENESS,
    idleAdvanceAfter: 30 * SEC,
    closedRunRetention: 15 * MIN,
    closedRunMemory: 10_000,
    sweepEvery: 0,
  };
  const make = () => new Stitcher([WORKFLOW], options, new SloJudge([WITHIN_5M, SUCCESS], options.allowedLateness));
  const live = (s: Stitcher, e: WorkflowEvent) => s.apply(e, e.time + SEC);

  it('hands out each verdict once, when it is decided', () => {
    const s = make();
    live(s, event('subscription.upgraded', 'crm', 0));
    live(s, event('invoice.updated', 'billing', MIN));
    expect(s.drain(T0 + MIN + SEC).sloOutcomes).toEqual([]);
    live(s, event('entitlement.activated', 'billing', 2 * MIN));
    const outcomes = s.drain(T0 + 2 * MIN + SEC).sloOutcomes.map((o) => [o.slo, o.due - T0, o.good]);
    expect(outcomes).toEqual([
      ['sync-5m', 5 * MIN, true],
      ['success', 10 * MIN, true],
    ]);
    live(s, event('ticket.tagged', 'ticketing', 3 * MIN));
    expect(s.drain(T0 + 3 * MIN + SEC).sloOutcomes).toEqual([]);
  });

  it('counts a run that never finishes as bad once event time passes its due time, without a new event for it', () => {
    const s = make();
    live(s, event('subscription.upgraded', 'crm', 0));
    s.drain(T0 + SEC);
    // Another correlation moves event time past 5m + lateness.
    live(s, event('lead.created', 'crm', 6 * MIN, 'other'));
    s.tick(T0 + 6 * MIN + SEC);
    expect(s.drain(T0 + 6 * MIN + SEC).sloOutcomes.map((o) => [o.slo, o.correlationId, o.good])).toEqual([['sync-5m', 'c-1', false]]);
  });

  it('hands a verdict out again when it changes (compensated after it counted as a success)', () => {
    const s = make();
    for (const e of [event('subscription.upgraded', 'crm', 0), event('invoice.updated', 'billing', MIN), event('entitlement.activated', 'billing', 2 * MIN)]) live(s, e);
    s.drain(T0 + 2 * MIN + SEC);
    live(s, event('subscription.upgrade_reverted', 'crm', 3 * MIN));
    expect(s.drain(T0 + 3 * MIN + SEC).sloOutcomes.map((o) => [o.slo, o.good])).toEqual([['success', false]]);
  });

  it('ends on the same verdict whichever trigger of a run arrives first, and a verdict that moved outranks the one before', () => {
    const early = event('subscription.upgraded', 'crm', 0, 'c-1', 'up-early');
    const late = event('subscription.upgraded', 'crm', 2 * MIN, 'c-1', 'up-late');
    const steps = [event('invoice.updated', 'billing', 3 * MIN), event('entitlement.activated', 'billing', 4 * MIN)];
    // The store keeps the newest version per (SLO, run): the last verdict handed out must be
    // the same for both orders, and carry a higher version than any verdict before it.
    const lastVerdicts = (order: WorkflowEvent[]) => {
      const s = make();
      const all = [];
      for (const e of order) {
        live(s, e);
        all.push(...s.drain(e.time + SEC).sloOutcomes);
      }
      const newest = new Map<string, (typeof all)[number]>();
      for (const o of all) {
        const seen = newest.get(o.slo);
        if (seen) expect(o.version).toBeGreaterThan(seen.version);
        newest.set(o.slo, o);
      }
      return [...newest.values()].map((o) => [o.slo, o.due - T0, o.good]).sort();
    };
    const inOrder = lastVerdicts([early, late, ...steps]);
    expect(lastVerdicts([late, ...steps, early])).toEqual(inOrder);
    expect(inOrder).toEqual([
      ['success', 10 * MIN, true],
      ['sync-5m', 5 * MIN, true],
    ]);
  });
});

describe('runs without outcomes yet', () => {
  it('share no outcomes: a step recorded on one run never shows on another', () => {
    const a = run({});
    const b = run({});
    recordOutcome(a, { name: 'invoice', kind: 'step', status: 'done', time: T0 + MIN, source: 'billing', eventId: 'inv-a' });
    expect([a.outcomes.size, b.outcomes.size, run({}).outcomes.size]).toEqual([1, 0, 0]);
    expect(b.outcomes.get('invoice')).toBeUndefined();
  });
});
