import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SpanStatusCode } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import type { WorkflowDefinition } from '../../src/domain/workflow.ts';
import type { WorkflowEvent } from '../../src/domain/event.ts';
import { Stitcher, type StitcherOptions } from '../../src/stitch/stitcher.ts';
import { businessTrace } from '../../src/stitch/trace.ts';
import { MAX_RUN_HISTORY } from '../../src/stitch/run.ts';
import { BusinessSpanBuilder } from '../../src/telemetry/traces/spans.ts';
import { businessSpanId, businessTraceId } from '../../src/telemetry/traces/ids.ts';
import type { BusinessTrace } from '../../src/domain/business-trace.ts';

const SEC = 1_000;
const MIN = 60 * SEC;
const T0 = Date.UTC(2026, 10, 20, 9);

const OPTIONS: StitcherOptions = {
  dedupeWindow: 10 * MIN,
  dedupeMaxKeys: 10_000,
  holdUnmatchedFor: 60 * MIN,
  allowedLateness: 30 * SEC,
  idleAdvanceAfter: 30 * SEC,
  closedRunRetention: 15 * MIN,
  closedRunMemory: 10_000,
  sweepEvery: 0,
};

const PLAN_UPGRADE: WorkflowDefinition = {
  name: 'plan-upgrade',
  owner: 'billing-platform',
  trigger: { source: 'crm', type: 'subscription.upgraded' },
  steps: [
    { name: 'invoice-updated', source: 'billing', type: 'invoice.updated', required: true, failOn: [] },
    { name: 'entitlement-activated', source: 'entitlements', type: 'entitlement.activated', required: true, failOn: ['entitlement.failed'] },
  ],
  compensation: [{ name: 'upgrade-reverted', source: 'crm', type: 'subscription.upgrade_reverted' }],
  deadline: 5 * MIN,
};

function ev(source: string, type: string, id: string, at: number, error?: WorkflowEvent['error'], correlationId = 'c-1'): WorkflowEvent {
  return { source, id, type, time: T0 + at, correlationId, ...(error ? { error } : {}), origin: { topic: `${source}.events`, partition: 0, offset: '0' } };
}

/** A plan upgrade whose entitlement failed with a 429 once, then succeeded; the invoice webhook came twice. */
const HEALED = [
  ev('crm', 'subscription.upgraded', 'crm-1', 0),
  ev('billing', 'invoice.updated', 'inv-1', 10 * SEC),
  ev('entitlements', 'entitlement.failed', 'ent-f1', 15 * SEC, { code: '429', class: 'transient', message: 'rate limited' }),
  ev('entitlements', 'entitlement.activated', 'ent-1', 25 * SEC),
];

function stitch(events: readonly WorkflowEvent[], redeliver: readonly WorkflowEvent[] = []): Stitcher {
  const s = new Stitcher([PLAN_UPGRADE], OPTIONS);
  for (const e of events) s.apply(e, e.time + SEC);
  for (const e of redeliver) s.apply(e, e.time + 30 * SEC);
  s.drain(T0 + MIN);
  return s;
}

function traceOf(s: Stitcher, correlationId = 'c-1'): BusinessTrace {
  return businessTrace(s.run(`plan-upgrade:${correlationId}`)!);
}

describe('a run as a business trace (stitch/trace.ts)', () => {
  it("a redelivery shows on its own run's trace only, not on runs that have none", () => {
    const other = HEALED.map((e) => ({ ...e, id: `${e.id}-2`, correlationId: 'c-2' }));
    const s = stitch([...HEALED, ...other], [HEALED[1]!]);
    expect(traceOf(s).steps[0]!.redeliveries).toHaveLength(1);
    expect(traceOf(s, 'c-2').steps[0]!.redeliveries).toEqual([]);
  });

  it('shows each step from the one before it, with its failed attempts and redeliveries', () => {
    const trace = traceOf(stitch(HEALED, [HEALED[1]!]));
    expect(trace.run.state).toBe('completed');
    expect(trace.trigger).toMatchObject({ source: 'crm', eventId: 'crm-1', type: 'subscription.upgraded', time: T0, redeliveries: [] });
    expect(trace.steps.map((s) => [s.name, s.source, s.status, s.startAt - T0, s.endAt - T0])).toEqual([
      ['invoice-updated', 'billing', 'done', 0, 10 * SEC],
      ['entitlement-activated', 'entitlements', 'done', 10 * SEC, 25 * SEC],
    ]);
    const [invoice, entitlement] = trace.steps;
    expect(invoice!.redeliveries).toEqual([{ source: 'billing', eventId: 'inv-1', receivedAt: T0 + 40 * SEC }]);
    expect(entitlement!.attempts).toEqual([
      { source: 'entitlements', eventId: 'ent-f1', type: 'entitlement.failed', time: T0 + 15 * SEC, status: 'failed', error: { code: '429', class: 'transient', message: 'rate limited' } },
      { source: 'entitlements', eventId: 'ent-1', type: 'entitlement.activated', time: T0 + 25 * SEC, status: 'done' },
    ]);
    expect(entitlement!.eventType).toBe('entitlement.activated');
  });

  it('is the same whatever order the events arrived in', () => {
    const inOrder = traceOf(stitch(HEALED));
    const shuffled = traceOf(stitch([HEALED[3]!, HEALED[1]!, HEALED[0]!, HEALED[2]!]));
    expect(shuffled.steps).toEqual(inOrder.steps);
    expect(shuffled.trigger).toEqual(inOrder.trigger);
  });

  it('shows the trigger of a run that took in nothing else, its redelivery, and an earlier trigger that took its place', () => {
    const first = ev('crm', 'subscription.upgraded', 'crm-2', 5 * SEC);
    const s = stitch([first], [first]);
    const attempt = { source: 'crm', eventId: 'crm-2', type: 'subscription.upgraded', time: T0 + 5 * SEC, status: 'done' };
    expect(traceOf(s).trigger).toEqual({ source: 'crm', eventId: 'crm-2', type: 'subscription.upgraded', time: T0 + 5 * SEC, attempts: [attempt], redeliveries: [{ source: 'crm', eventId: 'crm-2', receivedAt: T0 + 35 * SEC }] });
    const earlier = ev('crm', 'subscription.upgraded', 'crm-1', 0, { code: 'late' });
    s.apply(earlier, T0 + MIN);
    expect(traceOf(s).trigger).toMatchObject({ eventId: 'crm-1', time: T0, attempts: [{ eventId: 'crm-1', status: 'done', error: { code: 'late' } }, attempt] });
    expect(traceOf(stitch([earlier])).trigger.attempts).toEqual([{ source: 'crm', eventId: 'crm-1', type: 'subscription.upgraded', time: T0, status: 'done', error: { code: 'late' } }]);
  });

  it('keeps at most MAX_RUN_HISTORY events of a run and counts the rest', () => {
    const retries = Array.from({ length: MAX_RUN_HISTORY + 5 }, (_, i) => ev('entitlements', 'entitlement.failed', `f-${i}`, SEC + i, { code: '503' }));
    const trace = traceOf(stitch([HEALED[0]!, ...retries]));
    expect(trace.steps[0]!.attempts).toHaveLength(MAX_RUN_HISTORY - 1);
    expect(trace.droppedAttempts).toBe(6);
  });
});

describe('business spans (telemetry/traces/spans.ts)', () => {
  const sha = (text: string, bytes: number) => createHash('sha256').update(text).digest().subarray(0, bytes).toString('hex');

  it('derives the trace ID from workflow and correlation ID, and span IDs from the step', () => {
    expect(businessTraceId('plan-upgrade', 'c-1')).toBe(sha('plan-upgrade\u0000c-1', 16));
    expect(businessSpanId('plan-upgrade', 'c-1', 'invoice-updated')).toBe(sha('plan-upgrade\u0000c-1\u0000invoice-updated', 8));
    expect(businessTraceId('plan-upgrade', 'c-1')).not.toBe(businessTraceId('support-ticket', 'c-1'));
  });

  it('makes a root span for the run and a child per step, each in its system, at their event times', () => {
    const spans = new BusinessSpanBuilder().spans(traceOf(stitch(HEALED)));
    const traceId = businessTraceId('plan-upgrade', 'c-1');
    const rootId = businessSpanId('plan-upgrade', 'c-1', '');
    expect(spans.map((s) => [s.name, s.resource.attributes['service.name'], s.spanContext().spanId, s.parentSpanContext?.spanId])).toEqual([
      ['plan-upgrade', 'crm', rootId, undefined],
      ['invoice-updated', 'billing', businessSpanId('plan-upgrade', 'c-1', 'invoice-updated'), rootId],
      ['entitlement-activated', 'entitlements', businessSpanId('plan-upgrade', 'c-1', 'entitlement-activated'), rootId],
    ]);
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));
    expect(spans.map((s) => [hrTimeToMilliseconds(s.startTime) - T0, hrTimeToMilliseconds(s.endTime) - T0])).toEqual([
      [0, 25 * SEC],
      [0, 10 * SEC],
      [10 * SEC, 25 * SEC],
    ]);
    const root = spans[0]!;
    expect(root.status).toEqual({ code: SpanStatusCode.OK });
    expect(root.attributes).toMatchObject({
      'seamwatch.workflow': 'plan-upgrade',
      'seamwatch.correlation_id': 'c-1',
      'seamwatch.verdict': 'completed',
      'seamwatch.deadline': new Date(T0 + 5 * MIN).toISOString(),
      'seamwatch.deadline_missed': false,
      'seamwatch.owner': 'billing-platform',
      'cloudevents.event_id': 'crm-1',
      'cloudevents.event_type': 'subscription.upgraded',
    });
  });

  it('marks failed attempts and retries as events with error class and code', () => {
    const spans = new BusinessSpanBuilder().spans(traceOf(stitch(HEALED, [HEALED[1]!])));
    const entitlement = spans.find((s) => s.name === 'entitlement-activated')!;
    expect(entitlement.status.code).toBe(SpanStatusCode.UNSET);
    expect(entitlement.events.map((e) => [e.name, hrTimeToMilliseconds(e.time) - T0, e.attributes])).toEqual([
      [
        'seamwatch.attempt',
        15 * SEC,
        {
          'seamwatch.attempt.number': 1,
          'seamwatch.attempt.status': 'failed',
          'cloudevents.event_id': 'ent-f1',
          'cloudevents.event_source': 'entitlements',
          'cloudevents.event_type': 'entitlement.failed',
          'error.type': 'transient',
          'seamwatch.error.code': '429',
          'seamwatch.error.class': 'transient',
          'exception.message': 'rate limited',
        },
      ],
      [
        'seamwatch.attempt',
        25 * SEC,
        { 'seamwatch.attempt.number': 2, 'seamwatch.attempt.status': 'done', 'cloudevents.event_id': 'ent-1', 'cloudevents.event_source': 'entitlements', 'cloudevents.event_type': 'entitlement.activated', 'seamwatch.attempt.deciding': true },
      ],
    ]);
    const invoice = spans.find((s) => s.name === 'invoice-updated')!;
    expect(invoice.events.map((e) => [e.name, hrTimeToMilliseconds(e.time) - T0, e.attributes?.['seamwatch.received_at']])).toEqual([['seamwatch.redelivery', 10 * SEC, new Date(T0 + 40 * SEC).toISOString()]]);
    expect(invoice.attributes['seamwatch.step.redeliveries']).toBe(1);
  });

  it('sets status ERROR on a failed step and on the run, with the error', () => {
    const failed = [HEALED[0]!, HEALED[1]!, ev('entitlements', 'entitlement.failed', 'ent-f2', 20 * SEC, { code: 'card_declined', class: 'permanent' })];
    const spans = new BusinessSpanBuilder().spans(traceOf(stitch(failed)));
    const [root, , entitlement] = spans;
    expect(root!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'failed: entitlement-activated' });
    expect(root!.attributes['seamwatch.failed_steps']).toEqual(['entitlement-activated']);
    expect(entitlement!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'permanent: card_declined' });
    expect(entitlement!.attributes).toMatchObject({ 'error.type': 'permanent', 'seamwatch.error.code': 'card_declined', 'seamwatch.step.status': 'failed' });
  });

  it('draws a missed deadline: the run lasts to it, with an event naming the missing steps', () => {
    const s = stitch([HEALED[0]!, HEALED[1]!]);
    // Event time moves past the deadline (and the lateness allowed) on a heartbeat of another run.
    s.apply(ev('crm', 'noise', 'hb', 10 * MIN, undefined, 'hb'), T0 + 10 * MIN);
    s.tick(T0 + 10 * MIN);
    const trace = traceOf(s);
    expect(trace.run.state).toBe('deadline_missed');
    const [root] = new BusinessSpanBuilder().spans(trace);
    expect(hrTimeToMilliseconds(root!.endTime)).toBe(T0 + 5 * MIN);
    expect(root!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'deadline missed, waiting for entitlement-activated' });
    expect(root!.events.map((e) => [e.name, hrTimeToMilliseconds(e.time), e.attributes])).toEqual([['seamwatch.deadline', T0 + 5 * MIN, { 'seamwatch.missing_steps': ['entitlement-activated'] }]]);
  });

  it('gives one resource object per system, so an export groups spans by service', () => {
    const builder = new BusinessSpanBuilder();
    const a = builder.spans(traceOf(stitch(HEALED)));
    const b = builder.spans(traceOf(stitch(HEALED.map((e) => ({ ...e, correlationId: 'c-2', id: `${e.id}-2` }))), 'c-2'));
    expect(a[1]!.resource).toBe(b[1]!.resource);
    expect(a[0]!.resource).not.toBe(a[1]!.resource);
  });
});
