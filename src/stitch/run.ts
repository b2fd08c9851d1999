import type { WorkflowDefinition } from '../domain/workflow.ts';
import { eventKey, type WorkflowEvent } from '../domain/event.ts';
import type { RunRecord, RunState, StepOutcome } from '../domain/records.ts';
import type { TraceAttempt, TraceRedelivery } from '../domain/business-trace.ts';
import { keyCount, withKey, type EventKeys } from './event-keys.ts';

/** An event a run took in, by the step it spoke for ("trigger" for a trigger): what its trace shows. */
export interface RunHistoryEntry extends TraceAttempt {
  step: string;
}

/** Per run, how many events and redeliveries are kept for its trace; past that they are only counted. */
export const MAX_RUN_HISTORY = 64;

/**
 * What a span was when it was last handed out: where it started, and what ended it (the step's
 * outcome, or for the trigger its event id). recordOutcome replaces outcomes and never changes
 * one in place, so the same outcome and start are the same span: nothing to build or format
 * per span to find out whether it changed.
 */
export interface EmittedSpan {
  startAt: number;
  end: StepOutcome | string;
}

/** An event delivered again, by the step it spoke for. */
export type RunRedelivery = TraceRedelivery & { step: string };

/**
 * What a run took in besides the trigger that opened it, made at its second event or first
 * redelivery. Until then, most of an open backlog, all of it follows from the run's own fields
 * (read it with keysOf, lastEventOf, historyOf, redeliveriesOf): kept per run, one trigger's
 * keys, time and one-entry history cost an open run some 270 bytes.
 */
export interface RunProgress {
  /** Idempotency keys of the events taken in, kept small (see event-keys.ts). */
  eventKeys: EventKeys;
  lastEventAt: number;
  /** Events taken in (failed attempts and retries too), bounded by MAX_RUN_HISTORY: for the run's trace. */
  history: RunHistoryEntry[];
  /** Events delivered again, by step, bounded likewise. Not rebuilt after a restart. */
  redeliveries: RunRedelivery[];
  /** History entries and redeliveries past the bound. */
  historyDropped: number;
}

/** One execution of a workflow definition for one correlation ID, as the stitcher holds it. */
export interface WorkflowRun {
  runId: string;
  definition: WorkflowDefinition;
  correlationId: string;
  partition: number;
  startedAt: number;
  /**
   * Event id of the trigger that starts the run (the earliest). Its source and type are the
   * definition's trigger's, the only ones a trigger is matched by: not kept per run.
   */
  triggerId: string;
  /** Outcome per step name (steps and compensation steps). */
  outcomes: Map<string, StepOutcome>;
  /** Undefined while the run took in nothing but its opening trigger (with no error) and no redelivery: see RunProgress. */
  progress: RunProgress | undefined;
  state: RunState;
  deadlineMissed: boolean;
  /**
   * Set when a run is rebuilt from a store that had its deadline passed: event time never moves
   * back, so it stays passed, whatever the watermark of the instance that rebuilt it (a partition
   * taken over is seeded from stored workflow events, which can be behind where its last owner
   * judged it).
   */
  deadlinePassed?: true;
  version: number;
  /**
   * Spans already handed out, by step, so unchanged spans are not written again. Made at the
   * first span: an open run holds none, and a million open runs would hold a million empty Maps.
   */
  emittedSpans: Map<string, EmittedSpan> | undefined;
  /** SLO verdicts already handed out, by SLO name (made at the first, as emittedSpans). */
  emittedSlo: Map<string, string> | undefined;
  /**
   * Earliest watermark at which a pending SLO verdict of this run is decided; undefined while
   * none is pending (a workflow without SLOs: every run). A number field holding Infinity there
   * cost every run a 16-byte box: V8 boxes each object's own double field values.
   */
  sloDecideAt: number | undefined;
  /** When the stitcher's due queue next hands the run back (see DueQueue); Infinity: not queued. */
  queuedDue: number;
}

/**
 * `${workflow}:` by workflow name, made once. V8 joins `${workflow}:${correlationId}` pair by
 * pair, so each run id was two 32-byte cons strings; with the prefix shared it is one, over the
 * correlation ID the run keeps anyway. Workflow names come from the config: the Map stays small.
 */
const runIdPrefixes = new Map<string, string>();

export function runIdOf(workflow: string, correlationId: string): string {
  let prefix = runIdPrefixes.get(workflow);
  if (prefix === undefined) runIdPrefixes.set(workflow, (prefix = `${workflow}:`));
  return prefix + correlationId;
}

/**
 * The outcomes of a run that has none yet, shared by every such run (an open run waiting for
 * its first step is most of what a backlog holds). Only recordOutcome writes outcomes, and it
 * gives a run its own Map first: never set anything on this one.
 */
const NO_OUTCOMES: Map<string, StepOutcome> = new Map();

/** The redeliveries of a run that has none, shared likewise: recordRedelivery gives a run its own array first. */
const NO_REDELIVERIES: RunRedelivery[] = [];

export function newRun(definition: WorkflowDefinition, trigger: WorkflowEvent): WorkflowRun {
  const run: WorkflowRun = {
    runId: runIdOf(definition.name, trigger.correlationId),
    definition,
    correlationId: trigger.correlationId,
    partition: trigger.origin.partition,
    startedAt: trigger.time,
    triggerId: trigger.id,
    outcomes: NO_OUTCOMES,
    progress: undefined,
    state: 'open',
    deadlineMissed: false,
    version: 0,
    emittedSpans: undefined,
    emittedSlo: undefined,
    sloDecideAt: undefined,
    queuedDue: Number.POSITIVE_INFINITY,
  };
  // The trigger's error is for its trace: that entry cannot be made from the run's fields.
  if (trigger.error) run.progress = openingProgress(run, [historyEntry('trigger', 'done', trigger)]);
  return run;
}

function historyEntry(step: string, status: 'done' | 'failed', event: WorkflowEvent): RunHistoryEntry {
  return { step, source: event.source, eventId: event.id, type: event.type, time: event.time, status, ...(event.error ? { error: event.error } : {}) };
}

/** The key of the trigger that opened the run: while the run has no progress, its trigger is that one (see recordEvent). */
function openingKey(run: Readonly<WorkflowRun>): string {
  return eventKey({ source: run.definition.trigger.source, id: run.triggerId });
}

/** The history entry of that trigger, likewise. */
function openingEntry(run: Readonly<WorkflowRun>): RunHistoryEntry {
  const { source, type } = run.definition.trigger;
  return { step: 'trigger', source, eventId: run.triggerId, type, time: run.startedAt, status: 'done' };
}

/** A run's progress as its opening trigger alone makes it, with the history given. */
function openingProgress(run: Readonly<WorkflowRun>, history: RunHistoryEntry[]): RunProgress {
  return { eventKeys: openingKey(run), lastEventAt: run.startedAt, history, redeliveries: NO_REDELIVERIES, historyDropped: 0 };
}

/** The idempotency keys of the events a run took in. */
export function keysOf(run: Readonly<WorkflowRun>): EventKeys {
  return run.progress?.eventKeys ?? openingKey(run);
}

/** How many events a run took in (redeliveries not counted). */
export function eventCount(run: Readonly<WorkflowRun>): number {
  return run.progress ? keyCount(run.progress.eventKeys) : 1;
}

/** Event time of the latest event a run took in. */
export function lastEventOf(run: Readonly<WorkflowRun>): number {
  return run.progress?.lastEventAt ?? run.startedAt;
}

/** The events a run took in, as kept for its trace. */
export function historyOf(run: Readonly<WorkflowRun>): readonly RunHistoryEntry[] {
  return run.progress?.history ?? [openingEntry(run)];
}

/** The redeliveries a run noted, as kept for its trace. */
export function redeliveriesOf(run: Readonly<WorkflowRun>): readonly RunRedelivery[] {
  return run.progress?.redeliveries ?? NO_REDELIVERIES;
}

/**
 * Notes an event the run took in (callers check keysOf first): its key, the latest event time,
 * and its entry in the history within the bound. Called before the event changes anything else
 * of the run: its progress, if it has none yet, is made from the opening trigger first.
 */
export function recordEvent(run: WorkflowRun, step: string, status: 'done' | 'failed', event: WorkflowEvent, key: string): void {
  let progress = run.progress;
  if (!progress) {
    // The history is made with both entries: an array grown by push takes room for 17.
    progress = run.progress = openingProgress(run, [openingEntry(run), historyEntry(step, status, event)]);
  } else if (progress.history.length >= MAX_RUN_HISTORY) {
    progress.historyDropped++;
  } else {
    progress.history.push(historyEntry(step, status, event));
  }
  progress.eventKeys = withKey(progress.eventKeys, key);
  progress.lastEventAt = Math.max(progress.lastEventAt, event.time);
}

/** Notes a redelivery of an event the run already took in, within the bound. */
export function recordRedelivery(run: WorkflowRun, event: WorkflowEvent, receivedAt: number): void {
  const entry = historyOf(run).find((h) => h.source === event.source && h.eventId === event.id);
  if (!entry) return;
  const progress = (run.progress ??= openingProgress(run, [openingEntry(run)]));
  if (progress.redeliveries.length >= MAX_RUN_HISTORY) {
    progress.historyDropped++;
    return;
  }
  if (progress.redeliveries === NO_REDELIVERIES) progress.redeliveries = [];
  progress.redeliveries.push({ step: entry.step, source: event.source, eventId: event.id, receivedAt });
}

/**
 * Records what an event says about a step. A success wins over a failure of the same step,
 * whatever the order they arrive in: a failure that was retried into success is not a failure.
 * Among outcomes of the same status, the earliest event time counts.
 */
export function recordOutcome(run: WorkflowRun, outcome: StepOutcome): void {
  const current = run.outcomes.get(outcome.name);
  if (!current) {
    if (run.outcomes === NO_OUTCOMES) run.outcomes = new Map();
    run.outcomes.set(outcome.name, outcome);
    return;
  }
  if (current.status === 'failed' && outcome.status === 'done') run.outcomes.set(outcome.name, outcome);
  else if (current.status === outcome.status && (outcome.time < current.time || (outcome.time === current.time && outcome.eventId < current.eventId))) {
    // Ties go to the smaller event id, so arrival order never decides.
    run.outcomes.set(outcome.name, outcome);
  }
}

export interface Verdict {
  state: RunState;
  deadlineMissed: boolean;
}

/**
 * The state of a run follows from its outcomes and the event-time watermark alone, so any
 * order of the same events, live or replayed, reaches the same verdict.
 */
export function judge(run: WorkflowRun, watermark: number, allowedLatenessMs: number): Verdict {
  const deadlineAt = run.startedAt + run.definition.deadline;
  let completedAt = 0;
  let allDone = true;
  let failed = false;
  for (const step of run.definition.steps) {
    const outcome = run.outcomes.get(step.name);
    if (outcome?.status === 'failed') failed = true;
    if (!step.required) continue;
    if (outcome?.status === 'done') completedAt = Math.max(completedAt, outcome.time);
    else allDone = false;
  }
  const compensated = run.definition.compensation.some((c) => run.outcomes.get(c.name)?.status === 'done');
  if (compensated) return { state: 'compensated', deadlineMissed: false };
  if (allDone) return { state: 'completed', deadlineMissed: completedAt > deadlineAt };
  const passed = run.deadlinePassed === true || watermark >= deadlineAt + allowedLatenessMs;
  if (failed) return { state: 'failed', deadlineMissed: passed };
  if (passed) return { state: 'deadline_missed', deadlineMissed: true };
  return { state: 'open', deadlineMissed: false };
}

export function toRunRecord(run: WorkflowRun): RunRecord {
  const missing: string[] = [];
  const failed: string[] = [];
  // When the last required step was done, once all are: it follows from the outcomes, so a run does not keep it.
  let completedAt = 0;
  for (const step of run.definition.steps) {
    const outcome = run.outcomes.get(step.name);
    if (outcome?.status === 'failed') failed.push(step.name);
    if (!step.required) continue;
    if (outcome?.status === 'done') completedAt = Math.max(completedAt, outcome.time);
    else missing.push(step.name);
  }
  return {
    runId: run.runId,
    workflow: run.definition.name,
    owner: run.definition.owner,
    correlationId: run.correlationId,
    partition: run.partition,
    state: run.state,
    startedAt: run.startedAt,
    deadlineAt: run.startedAt + run.definition.deadline,
    completedAt: missing.length === 0 ? completedAt : 0,
    deadlineMissed: run.deadlineMissed,
    missingSteps: missing,
    failedSteps: failed,
    eventCount: eventCount(run),
    lastEventAt: lastEventOf(run),
    version: run.version,
  };
}
