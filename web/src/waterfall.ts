import type { EventRecord, RedeliveryRecord, RunRecord, SpanRecord, WorkflowDefinition } from './api.ts';

/**
 * The waterfall of one run, laid out as data: rows of bars and marks on a time axis that starts
 * at the trigger and reaches past the deadline. Pure (no DOM), so it is unit-tested.
 */

export interface Mark {
  /** Position on the axis, 0..1. */
  at: number;
  time: number;
  kind: 'failed-attempt' | 'attempt' | 'redelivery';
  title: string;
}

export interface WaterfallRow {
  step: string;
  kind: 'trigger' | 'step' | 'compensation' | 'missing';
  source: string;
  status: 'done' | 'failed' | 'missing';
  /** Bar from..to on the axis (0..1); a trigger is a point (from = to). */
  from: number;
  to: number;
  startAt: number;
  endAt: number;
  sinceTriggerMs: number;
  errorClass: string;
  errorCode: string;
  /** Every event of this step besides the one that decided it: earlier failures and retries. */
  marks: Mark[];
  retries: number;
  /** Deliveries of this step's events after the first (dropped by seamwatch, shown for the record). */
  redeliveries: number;
  late: boolean;
}

export interface Tick {
  at: number;
  label: string;
}

export interface Waterfall {
  start: number;
  end: number;
  /** The run's deadline on the axis (0..1). */
  deadline: number;
  rows: WaterfallRow[];
  ticks: Tick[];
}

const TICK_STEPS = [100, 250, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000, 172_800_000, 604_800_000];

function tickLabel(ms: number): string {
  if (ms === 0) return '0';
  if (ms < 1_000) return `+${ms} ms`;
  if (ms < 60_000) return `+${ms / 1_000} s`;
  if (ms < 3_600_000) return `+${ms / 60_000} min`;
  if (ms < 86_400_000) return `+${ms / 3_600_000} h`;
  return `+${ms / 86_400_000} d`;
}

/** Which step an event reports on (its type or one of its failOn types), if any. */
function stepOf(event: EventRecord, workflow: WorkflowDefinition | undefined): { step: string; failed: boolean } | undefined {
  if (!workflow) return undefined;
  for (const s of workflow.steps) {
    if (s.source !== event.source) continue;
    if (s.type === event.type) return { step: s.name, failed: false };
    if (s.failOn.includes(event.type)) return { step: s.name, failed: true };
  }
  for (const c of workflow.compensation) if (c.source === event.source && c.type === event.type) return { step: c.name, failed: false };
  if (workflow.trigger.source === event.source && workflow.trigger.type === event.type) return { step: 'trigger', failed: false };
  return undefined;
}

export function layoutWaterfall(run: RunRecord, spans: readonly SpanRecord[], events: readonly EventRecord[], workflow: WorkflowDefinition | undefined, redeliveries: readonly RedeliveryRecord[] = []): Waterfall {
  const own = spans.filter((s) => s.runId === run.runId).sort((a, b) => a.endAt - b.endAt || (a.kind === 'trigger' ? -1 : 1));
  const attempts = new Map<string, { event: EventRecord; failed: boolean }[]>();
  for (const e of events) {
    const found = stepOf(e, workflow);
    if (!found) continue;
    const failed = found.failed || Boolean(e.error.code || e.error.class);
    attempts.set(found.step, [...(attempts.get(found.step) ?? []), { event: e, failed }]);
  }
  // A redelivery is drawn on the row of the event it repeats, at the event's own time (its
  // arrival is wall-clock time, not on this axis).
  const stepOfEvent = new Map<string, { step: string; time: number }>();
  for (const s of own) stepOfEvent.set(`${s.source}\u0000${s.eventId}`, { step: s.kind === 'trigger' ? 'trigger' : s.step, time: s.endAt });
  for (const [step, list] of attempts) for (const a of list) stepOfEvent.set(`${a.event.source}\u0000${a.event.id}`, { step, time: a.event.time });
  const again = new Map<string, { time: number; title: string }[]>();
  for (const r of redeliveries) {
    const of = stepOfEvent.get(`${r.source}\u0000${r.eventId}`);
    if (!of) continue;
    again.set(of.step, [...(again.get(of.step) ?? []), { time: of.time, title: `${r.source} ${r.eventId} delivered again (${r.origin.topic} ${r.origin.partition}/${r.origin.offset})` }]);
  }
  const times = [run.startedAt, run.deadlineAt, ...own.map((s) => s.endAt), ...[...attempts.values()].flat().map((a) => a.event.time)].filter((t) => t > 0);
  const start = Math.min(...times);
  const last = Math.max(...times);
  // A little room after the last thing drawn, so a bar at the end is not cut by the edge.
  const end = last + Math.max(1, (last - start) * 0.06);
  const pos = (t: number) => (end === start ? 0 : (t - start) / (end - start));
  const markTitle = (e: EventRecord) => `${e.source} ${e.type}${e.error.code ? ` — ${e.error.code}` : ''}${e.error.class ? ` (${e.error.class})` : ''}${e.error.message ? `: ${e.error.message}` : ''}`;

  const rows: WaterfallRow[] = own.map((s) => {
    const stepName = s.kind === 'trigger' ? 'trigger' : s.step;
    const others = (attempts.get(stepName) ?? []).filter((a) => a.event.id !== s.eventId || a.event.source !== s.source);
    return {
      step: s.step,
      kind: s.kind,
      source: s.source,
      status: s.status,
      from: pos(s.kind === 'trigger' ? s.endAt : s.startAt),
      to: pos(s.endAt),
      startAt: s.startAt,
      endAt: s.endAt,
      sinceTriggerMs: s.sinceTriggerMs,
      errorClass: s.errorClass,
      errorCode: s.errorCode,
      marks: [
        ...others.map((a) => ({ at: pos(a.event.time), time: a.event.time, kind: a.failed ? ('failed-attempt' as const) : ('attempt' as const), title: markTitle(a.event) })),
        ...(again.get(stepName) ?? []).map((r) => ({ at: pos(r.time), time: r.time, kind: 'redelivery' as const, title: r.title })),
      ],
      retries: others.length,
      redeliveries: again.get(stepName)?.length ?? 0,
      late: s.kind === 'step' && s.endAt > run.deadlineAt,
    };
  });
  const drawn = new Set(own.map((s) => s.step));
  for (const name of run.missingSteps) {
    if (drawn.has(name)) continue;
    const source = workflow?.steps.find((s) => s.name === name)?.source ?? '';
    const marks = (attempts.get(name) ?? []).map((a) => ({ at: pos(a.event.time), time: a.event.time, kind: a.failed ? ('failed-attempt' as const) : ('attempt' as const), title: markTitle(a.event) }));
    rows.push({ step: name, kind: 'missing', source, status: 'missing', from: pos(run.startedAt), to: pos(run.deadlineAt), startAt: run.startedAt, endAt: run.deadlineAt, sinceTriggerMs: 0, errorClass: '', errorCode: '', marks, retries: Math.max(0, marks.length - 1), redeliveries: 0, late: false });
  }
  const span = end - start;
  const step = TICK_STEPS.find((s) => span / s <= 6) ?? TICK_STEPS[TICK_STEPS.length - 1]!;
  const ticks: Tick[] = [];
  for (let t = 0; t <= span; t += step) ticks.push({ at: pos(start + t), label: tickLabel(t) });
  return { start, end, deadline: pos(run.deadlineAt), rows, ticks };
}
