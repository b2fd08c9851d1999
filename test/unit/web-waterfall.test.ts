import { describe, expect, it } from 'vitest';
import type { EventRecord, RunRecord, SpanRecord } from '../../src/domain/records.ts';
import type { WorkflowDefinition } from '../../src/domain/workflow.ts';
import { layoutWaterfall } from '../../web/src/waterfall.ts';

const S = 1_000;
const M = 60 * S;
const T0 = Date.UTC(2026, 10, 20, 9);

const WORKFLOW: WorkflowDefinition = {
  name: 'plan-upgrade',
  owner: 'billing-platform',
  trigger: { source: 'crm', type: 'subscription.upgraded' },
  steps: [
    { name: 'invoice-updated', source: 'billing', type: 'invoice.updated', required: true, failOn: ['invoice.update_failed'] },
    { name: 'entitlement-activated', source: 'billing', type: 'entitlement.activated', required: true, failOn: [] },
  ],
  compensation: [],
  deadline: 5 * M,
};

const run = (extra: Partial<RunRecord> = {}): RunRecord => ({
  runId: 'plan-upgrade:c-1', workflow: 'plan-upgrade', owner: 'billing-platform', correlationId: 'c-1', partition: 0, state: 'completed',
  startedAt: T0, deadlineAt: T0 + 5 * M, completedAt: T0 + 7 * M, deadlineMissed: true, missingSteps: [], failedSteps: [], eventCount: 4, lastEventAt: T0 + 7 * M, version: 4, ...extra,
});

const span = (step: string, kind: SpanRecord['kind'], source: string, eventId: string, startAt: number, endAt: number, status: SpanRecord['status'] = 'done'): SpanRecord => ({
  runId: 'plan-upgrade:c-1', workflow: 'plan-upgrade', correlationId: 'c-1', step, kind, status, source, eventId, startAt, endAt, sinceTriggerMs: endAt - T0, runStartedAt: T0, errorCode: '', errorClass: '', version: 1,
});

const event = (source: string, type: string, id: string, time: number, error: EventRecord['error'] = {}): EventRecord => ({
  source, id, type, time, correlationId: 'c-1', subject: '', data: '{}', error, origin: { topic: `http:${source}`, partition: 0, offset: '1' }, receivedAt: time,
});

describe('the trace waterfall layout', () => {
  const spans = [span('trigger', 'trigger', 'crm', 'e0', T0, T0), span('invoice-updated', 'step', 'billing', 'e2', T0, T0 + 25 * S), span('entitlement-activated', 'step', 'billing', 'e3', T0 + 25 * S, T0 + 7 * M)];
  const events = [event('crm', 'subscription.upgraded', 'e0', T0), event('billing', 'invoice.update_failed', 'e1', T0 + 5 * S, { code: '429', class: 'rate_limited' }), event('billing', 'invoice.updated', 'e2', T0 + 25 * S), event('billing', 'entitlement.activated', 'e3', T0 + 7 * M)];

  it('puts every step on an axis from the trigger to past the last event, with the deadline between', () => {
    const w = layoutWaterfall(run(), spans, events, WORKFLOW);
    expect(w.start).toBe(T0);
    expect(w.end).toBeGreaterThan(T0 + 7 * M);
    expect(w.rows.map((r) => [r.step, r.kind, r.status])).toEqual([
      ['trigger', 'trigger', 'done'],
      ['invoice-updated', 'step', 'done'],
      ['entitlement-activated', 'step', 'done'],
    ]);
    expect(w.deadline).toBeCloseTo((5 * M) / (w.end - w.start));
    const ent = w.rows[2]!;
    expect([ent.from, ent.to]).toEqual([(25 * S) / (w.end - T0), (7 * M) / (w.end - T0)]);
    expect(ent.late).toBe(true);
    expect(w.rows[1]!.late).toBe(false);
    expect(w.ticks[0]).toEqual({ at: 0, label: '0' });
    expect(w.ticks.every((t) => t.at >= 0 && t.at <= 1)).toBe(true);
  });

  it('marks a failed attempt that a retry healed on its step, and counts the retry', () => {
    const invoice = layoutWaterfall(run(), spans, events, WORKFLOW).rows[1]!;
    expect(invoice.retries).toBe(1);
    expect(invoice.marks).toEqual([expect.objectContaining({ kind: 'failed-attempt', time: T0 + 5 * S, title: 'billing invoice.update_failed — 429 (rate_limited)' })]);
  });

  it('puts a redelivered event on the row of the step it repeats, at that event\'s time', () => {
    const again = { correlationId: 'c-1', source: 'billing', eventId: 'e2', origin: { topic: 'http:billing', partition: 0, offset: '9' }, receivedAt: T0 + 60 * M };
    const stray = { ...again, eventId: 'unknown' };
    const w = layoutWaterfall(run(), spans, events, WORKFLOW, [again, stray]);
    const invoice = w.rows[1]!;
    expect(invoice.redeliveries).toBe(1);
    expect(invoice.marks.filter((m) => m.kind === 'redelivery')).toEqual([expect.objectContaining({ time: T0 + 25 * S, at: (25 * S) / (w.end - w.start) })]);
    expect(w.rows.filter((r) => r !== invoice).every((r) => r.redeliveries === 0)).toBe(true);
  });

  it('draws a required step never done as a missing row up to the deadline', () => {
    const open = run({ state: 'deadline_missed', completedAt: 0, missingSteps: ['entitlement-activated'] });
    const w = layoutWaterfall(open, spans.slice(0, 2), events.slice(0, 3), WORKFLOW);
    const missing = w.rows.find((r) => r.step === 'entitlement-activated')!;
    expect([missing.kind, missing.status, missing.source, missing.from, missing.to]).toEqual(['missing', 'missing', 'billing', 0, w.deadline]);
  });

  it('without the workflow definition still draws the stored steps, without attempts', () => {
    const w = layoutWaterfall(run(), spans, events, undefined);
    expect(w.rows.map((r) => r.step)).toEqual(['trigger', 'invoice-updated', 'entitlement-activated']);
    expect(w.rows.every((r) => r.marks.length === 0)).toBe(true);
  });
});
