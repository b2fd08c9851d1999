import type { WorkflowDefinition } from '../domain/workflow.ts';
import { evictOver } from '../base/bounded-map.ts';
import { DedupeWindow } from './dedupe.ts';
import { eventKey, type WorkflowEvent } from '../domain/event.ts';
import type { EventRecord, RunRecord, RunState, SloOutcomeRecord, SpanRecord, StitchOutput } from '../domain/records.ts';
import { NO_JUDGE, type RunJudge } from './judge.ts';
import type { Recovery } from '../domain/store.ts';
import { eventCount, judge, keysOf, lastEventOf, newRun, recordEvent, recordOutcome, recordRedelivery, runIdOf, toRunRecord, type WorkflowRun } from './run.ts';
import { changedSpans } from './spans.ts';
import { Watermark } from './watermark.ts';
import { HeldSteps } from './held-steps.ts';
import { WorkflowIndex, type Role } from './workflow-index.ts';
import { DueQueue } from './due-queue.ts';
import { hasKey } from './event-keys.ts';

/** Bounds and event-time settings; the `pipeline:` section of the config carries them (all ms but the counts). */
export interface StitcherOptions {
  dedupeWindow: number;
  dedupeMaxKeys: number;
  holdUnmatchedFor: number;
  /** Most steps held waiting for their trigger; past it the longest-held go first. */
  maxHeldSteps?: number;
  allowedLateness: number;
  idleAdvanceAfter: number;
  closedRunRetention: number;
  closedRunMemory: number;
  runHorizon?: number;
  /** Wall ms between sweeps of held steps and dedupe keys, and at the most between forgetting old runs (see Stitcher.tick). */
  sweepEvery?: number;
}

/** Counters the pipeline turns into metrics; plain numbers so the stitcher stays free of I/O. */
export interface StitchCounters {
  accepted: number;
  duplicates: number;
  unmatched: number;
  heldExpired: number;
  /** Held steps let go because maxHeldSteps was reached. */
  heldEvicted: number;
  lateForClosedRun: number;
  extraTriggers: number;
  runsStarted: number;
  runsEvicted: number;
  /** Runs tick() took up because something of theirs came due: what its cost follows. */
  runsVisited: number;
}

/** Runs remembered as redelivered until takeRedelivered() asks. */
const MAX_REDELIVERED_RUNS = 10_000;

/** How often, in wall time, held steps and dedupe keys are looked over, and old runs forgotten while nothing comes due. */
const SWEEP_EVERY_MS = 5_000;

function dueAt(run: WorkflowRun, allowedLateness: number): number {
  return run.startedAt + run.definition.deadline + allowedLateness;
}

/** The watermark past which a run is forgotten; an unfinished one is kept at least until its deadline has been judged. */
function forgetAfter(run: WorkflowRun, options: Required<StitcherOptions>): number {
  const finished = run.state === 'completed' || run.state === 'compensated';
  return finished ? lastEventOf(run) + options.closedRunRetention : run.startedAt + Math.max(options.runHorizon, run.definition.deadline + options.allowedLateness);
}

/**
 * Groups events by correlation ID into workflow runs. Pure: events and the clock go in, rows to
 * store come out of drain(). Feeding it the same events again, in any order, changes nothing.
 */
export class Stitcher {
  private readonly index: WorkflowIndex;
  private readonly options: Required<StitcherOptions>;
  private readonly runs = new Map<string, WorkflowRun>();
  /** Steps that arrived before their trigger, by correlation ID. */
  private readonly held: HeldSteps;
  /** Runs already closed and forgotten, so a late trigger cannot open them again. */
  private readonly closed = new Map<string, number>();
  private readonly dedupe: DedupeWindow;
  private readonly watermark: Watermark;
  private readonly dirty = new Set<WorkflowRun>();
  /** Runs that took a redelivery since takeRedelivered() was last asked: their traces changed, their rows did not. */
  private redelivered = new Set<string>();
  /**
   * Runs by the event time something of theirs is next due (deadline, SLO decision, forgetting),
   * one queue per partition number: each is taken up to its partition's own watermark, so a
   * joining partition's runs wait for it without being looked at by every tick meanwhile.
   */
  private readonly due = new Map<number, DueQueue<WorkflowRun>>();
  /** Runs the due queue found past their horizon, to be forgotten by forgetParked unless they changed. */
  private forgettable: WorkflowRun[] = [];
  private lastSweep = Number.NEGATIVE_INFINITY;
  private events: EventRecord[] = [];
  readonly counters: StitchCounters = {
    accepted: 0,
    duplicates: 0,
    unmatched: 0,
    heldExpired: 0,
    heldEvicted: 0,
    lateForClosedRun: 0,
    extraTriggers: 0,
    runsStarted: 0,
    runsEvicted: 0,
    runsVisited: 0,
  };

  private readonly judge: RunJudge;

  constructor(definitions: readonly WorkflowDefinition[], options: StitcherOptions, judge: RunJudge = NO_JUDGE) {
    this.index = new WorkflowIndex(definitions);
    this.judge = judge;
    this.options = { runHorizon: 7 * 86_400_000, sweepEvery: SWEEP_EVERY_MS, maxHeldSteps: Number.POSITIVE_INFINITY, ...options };
    this.held = new HeldSteps(this.options.maxHeldSteps);
    this.dedupe = new DedupeWindow(options.dedupeWindow, options.dedupeMaxKeys);
    this.watermark = new Watermark(options.idleAdvanceAfter);
  }

  /** Applies one event. Returns false when it was a redelivery and changed nothing. */
  apply(event: WorkflowEvent, now: number): boolean {
    const key = eventKey(event);
    if (this.dedupe.checkAndRemember(key, event.time)) {
      this.counters.duplicates++;
      this.noteRedelivery(event, key, now);
      return false;
    }
    this.counters.accepted++;
    this.watermark.observe(event.origin.topic, event.origin.partition, event.time, now);
    this.events.push(toEventRecord(event, now));
    this.attach(event, key, now);
    return true;
  }

  /** A redelivery changes nothing, but the runs it belongs to show it in their traces. */
  private noteRedelivery(event: WorkflowEvent, key: string, now: number): void {
    for (const role of this.index.rolesOf(event.source, event.type)) {
      const run = this.runs.get(runIdOf(role.workflow.name, event.correlationId));
      if (run && hasKey(keysOf(run), key)) {
        recordRedelivery(run, event, now);
        // Bounded: with no trace export nobody takes them.
        if (this.redelivered.size < MAX_REDELIVERED_RUNS) this.redelivered.add(run.runId);
      }
    }
  }

  private attach(event: WorkflowEvent, key: string, now: number): void {
    const roles = this.index.rolesOf(event.source, event.type);
    if (roles.length === 0) {
      this.counters.unmatched++;
      return;
    }
    let hold = false;
    for (const role of roles) {
      const runId = runIdOf(role.workflow.name, event.correlationId);
      let run = this.runs.get(runId);
      if (role.kind === 'trigger') {
        if (run) {
          if (!hasKey(keysOf(run), key)) {
            this.counters.extraTriggers++;
            this.addTrigger(run, event, key, now);
          }
          continue;
        }
        if (this.closed.has(runId)) {
          this.counters.lateForClosedRun++;
          continue;
        }
        run = newRun(role.workflow, event);
        // Keyed by the run's own id string: one string per run, hashed once, for the lookups by run.runId.
        this.runs.set(run.runId, run);
        this.counters.runsStarted++;
        this.touch(run, now);
        this.release(event.correlationId, run, now);
        continue;
      }
      if (run) {
        this.applyToRun(run, role, event, key, now);
      } else if (this.closed.has(runId)) {
        this.counters.lateForClosedRun++;
      } else {
        hold = true;
      }
    }
    if (hold) {
      this.held.hold(event);
      this.counters.heldEvicted = this.held.evicted;
    }
  }

  /**
   * Another trigger for a run already open: the earliest one (then the smallest id) starts the
   * run, so the run is the same whichever trigger arrived first.
   */
  private addTrigger(run: WorkflowRun, event: WorkflowEvent, key: string, now: number): void {
    // Before the trigger may change: a run without progress makes it from its opening trigger.
    recordEvent(run, 'trigger', 'done', event, key);
    if (event.time < run.startedAt || (event.time === run.startedAt && event.id < run.triggerId)) {
      run.startedAt = event.time;
      run.triggerId = event.id;
    }
    this.touch(run, now);
  }

  private applyToRun(run: WorkflowRun, role: Role, event: WorkflowEvent, key: string, now: number): void {
    if (role.kind === 'trigger' || hasKey(keysOf(run), key)) return;
    recordEvent(run, role.step, role.kind === 'step-failure' ? 'failed' : 'done', event, key);
    recordOutcome(run, {
      name: role.step,
      kind: role.kind === 'compensation' ? 'compensation' : 'step',
      status: role.kind === 'step-failure' ? 'failed' : 'done',
      time: event.time,
      source: event.source,
      eventId: event.id,
      ...(event.error ? { error: event.error } : {}),
    });
    this.touch(run, now);
  }

  /** Attaches held events of this correlation ID that belong to the new run's workflow. */
  private release(correlationId: string, run: WorkflowRun, now: number): void {
    this.held.release(correlationId, (event) => {
      let stillNeeded = false;
      for (const role of this.index.rolesOf(event.source, event.type)) {
        if (role.workflow.name === run.definition.name) this.applyToRun(run, role, event, eventKey(event), now);
        else if (role.kind !== 'trigger' && !this.runs.has(runIdOf(role.workflow.name, correlationId))) stillNeeded = true;
      }
      return stillNeeded;
    });
  }

  private touch(run: WorkflowRun, now: number, watermark = this.watermark.of(run.partition, now)): void {
    const verdict = judge(run, watermark, this.options.allowedLateness);
    run.state = verdict.state;
    run.deadlineMissed = verdict.deadlineMissed;
    run.version = Math.max(run.version + 1, progressVersion(eventCount(run), now));
    this.schedule(run);
    this.dirty.add(run);
  }

  /**
   * Queues a run for the earliest event time something of it is due: its deadline while
   * unjudged, a pending SLO decision, and otherwise the horizon past which it is forgotten
   * (a pending decision keeps it, so that horizon counts only once none is pending).
   */
  private schedule(run: WorkflowRun): void {
    let at = run.sloDecideAt ?? Number.POSITIVE_INFINITY;
    if ((run.state === 'open' || run.state === 'failed') && !run.deadlineMissed) at = Math.min(at, dueAt(run, this.options.allowedLateness));
    if (run.sloDecideAt === undefined) at = Math.min(at, forgetAfter(run, this.options));
    let queue = this.due.get(run.partition);
    if (!queue) this.due.set(run.partition, (queue = new DueQueue()));
    queue.schedule(run, at);
  }

  /**
   * Moves event time on: judges the deadlines and SLO decisions of the runs that came due, forgets
   * runs past their horizon when a deadline or decision came due or every sweepEvery, and every
   * sweepEvery held steps, closed run ids and dedupe keys past theirs. Call it on a timer; it
   * costs what is due, not what is held.
   */
  tick(now: number): void {
    // The instance's watermark is the newest any partition is judged at: nothing is due before it.
    const newest = this.watermark.at(now);
    if (newest === Number.NEGATIVE_INFINITY) return;
    let watermarkOf: ((partition: number) => number) | undefined;
    let judged = false;
    for (const [partition, queue] of this.due) {
      if (queue.next > newest) continue;
      watermarkOf ??= this.watermark.partitionsAt(now);
      const watermark = watermarkOf(partition);
      for (const run of queue.takeDue(watermark)) {
        // A run forgotten or dropped since it was queued (its id may hold a newer run by now).
        if (this.runs.get(run.runId) !== run) continue;
        this.counters.runsVisited++;
        if (this.judgeDue(run, now, watermark)) judged = true;
      }
    }
    const sweep = now - this.lastSweep >= this.options.sweepEvery;
    if (!judged && !sweep) return;
    watermarkOf ??= this.watermark.partitionsAt(now);
    this.forgetParked(watermarkOf);
    if (!sweep) return;
    this.lastSweep = now;
    const { holdUnmatchedFor } = this.options;
    this.counters.heldExpired += this.held.retain((e) => e.time >= watermarkOf(e.origin.partition) - holdUnmatchedFor);
    // Keys are not kept by partition: the oldest watermark keeps a joining partition's redeliveries known.
    this.dedupe.expire(this.watermark.low(now));
  }

  /**
   * Forgets the runs the due queue found past their horizon, unless they changed since. It
   * keeps the pace the sweep over every run had: at a tick where a deadline or an SLO decision
   * came due, or every sweepEvery.
   */
  private forgetParked(watermarkOf: (partition: number) => number): void {
    const forgettable = this.forgettable;
    this.forgettable = [];
    for (const run of forgettable) {
      // Forgotten already (it came due twice), dropped, or dirty again since: drain() queues it.
      if (this.runs.get(run.runId) !== run || this.dirty.has(run)) continue;
      if (this.mayForget(run, watermarkOf(run.partition))) {
        this.runs.delete(run.runId);
        this.closed.set(run.runId, lastEventOf(run));
        this.counters.runsEvicted++;
      } else {
        this.schedule(run);
      }
    }
    evictOver(this.closed, this.options.closedRunMemory);
  }

  /**
   * A run the due queue handed back at its partition's watermark: its deadline is judged, a due
   * SLO decision makes it dirty (drain() decides it), and past its horizon it is parked to be
   * forgotten (see forgetParked). True when its deadline or an SLO decision was what came due.
   */
  private judgeDue(run: WorkflowRun, now: number, watermark: number): boolean {
    let judged = false;
    if (run.state === 'open' || run.state === 'failed') {
      judged = !run.deadlineMissed && dueAt(run, this.options.allowedLateness) <= watermark;
      const verdict = judge(run, watermark, this.options.allowedLateness);
      if (verdict.state !== run.state || verdict.deadlineMissed !== run.deadlineMissed) this.touch(run, now, watermark);
    }
    if (run.sloDecideAt !== undefined && run.sloDecideAt <= watermark) {
      judged = true;
      this.dirty.add(run);
    }
    // A dirty run is queued again when drain() hands it out, with its SLO decision renewed.
    if (this.dirty.has(run)) return judged;
    if (this.mayForget(run, watermark)) this.forgettable.push(run);
    else this.schedule(run);
    return judged;
  }

  /** Past its horizon with no SLO decision pending (a dirty run is not forgotten either: see callers). */
  private mayForget(run: WorkflowRun, watermark: number): boolean {
    return watermark > forgetAfter(run, this.options) && run.sloDecideAt === undefined;
  }

  /** Hands out what changed since the last drain: new events, changed runs and spans. */
  drain(now = 0): StitchOutput {
    const runs: RunRecord[] = [];
    const spans: SpanRecord[] = [];
    const sloOutcomes: SloOutcomeRecord[] = [];
    const watermarkOf = this.watermark.partitionsAt(now);
    for (const run of this.dirty) {
      this.judgeSlos(run, watermarkOf(run.partition), sloOutcomes);
      runs.push(toRunRecord(run));
      // Spans are written from a run's first verdict on: an open run's spans still move as steps
      // arrive, and writing each intermediate shape would double the rows for nothing.
      if (run.state !== 'open' || (run.emittedSpans?.size ?? 0) > 0) changedSpans(run, spans);
    }
    this.dirty.clear();
    const events = this.events;
    this.events = [];
    return { events, runs, spans, sloOutcomes };
  }

  /** Hands out the verdicts of a run that changed (its SLOs), and notes when pending ones are due. */
  private judgeSlos(run: WorkflowRun, watermark: number, out: SloOutcomeRecord[]): void {
    const decideAt = this.judge.judge(run, watermark, out);
    run.sloDecideAt = decideAt === Number.POSITIVE_INFINITY ? undefined : decideAt;
    this.schedule(run);
  }

  /** Rows waiting for drain(), for back-pressure decisions. */
  get pendingRows(): number {
    return this.events.length + this.dirty.size * 2;
  }

  /**
   * Rebuilds runs from stored events after a restart or a partition assignment, finished ones
   * too, so that late events still apply to them. A finished run that cannot be rebuilt (its
   * trigger is not among the events) is not opened again. The rebuilt runs are written again
   * (idempotently), which also repairs a flush that died half-way.
   */
  restore(recovery: Recovery, now: number): void {
    if (recovery.maxEventTime !== null) this.watermark.seed(recovery.maxEventTime, now);
    const versions = new Map(recovery.runs.map((run) => [run.runId, run.version]));
    const sorted = [...recovery.events].sort((a, b) => a.time - b.time);
    for (const event of sorted) {
      // Attach even when the key was seen: this instance may have owned the partition before,
      // and the runs were dropped when it moved away. Attaching is idempotent per run.
      const key = eventKey(event);
      this.dedupe.checkAndRemember(key, event.time);
      this.attach(event, key, now);
    }
    // A deadline judged passed where the run was stored stays passed here (run.ts, deadlinePassed).
    for (const stored of recovery.runs) {
      if (!stored.deadlineMissed && stored.state !== 'deadline_missed') continue;
      const run = this.runs.get(stored.runId);
      if (!run || run.deadlinePassed) continue;
      run.deadlinePassed = true;
      this.touch(run, now);
    }
    for (const run of this.dirty) run.version = Math.max(run.version, (versions.get(run.runId) ?? 0) + 1);
    // A finished run whose events were not all found (its trigger is gone) stays as stored.
    for (const run of recovery.runs) {
      if ((run.state === 'completed' || run.state === 'compensated') && !this.runs.has(run.runId)) this.closed.set(run.runId, 0);
    }
  }

  /**
   * The event-time watermark every verdict is decided up to: the oldest of the partitions'
   * (see Watermark.low). What SLO evaluation and the detectors go by.
   */
  watermarkAt(now: number): number {
    return this.watermark.low(now);
  }

  /** Partitions handed over with a backlog, judged on their own event time until they catch up. */
  get partitionsCatchingUp(): number {
    return this.watermark.joiningCount;
  }

  /** The newest event time taken in from a topic partition; -Infinity before its first event. */
  partitionEventTime(topic: string, partition: number): number {
    return this.watermark.newest(topic, partition);
  }

  /** Tells event time whether a partition still has a backlog to read (see Watermark). */
  partitionBacklog(topic: string, partition: number, hasBacklog: boolean, now: number): void {
    this.watermark.backlog(topic, partition, hasBacklog, now);
  }

  /** Drops runs on partitions this instance no longer owns. */
  dropPartitions(keep: (partition: number) => boolean): number {
    let dropped = 0;
    this.watermark.forgetPartitions(keep);
    this.held.retain((e) => keep(e.origin.partition));
    for (const partition of this.due.keys()) if (!keep(partition)) this.due.delete(partition);
    for (const run of this.runs.values()) {
      if (keep(run.partition)) continue;
      this.runs.delete(run.runId);
      this.dirty.delete(run);
      dropped++;
    }
    return dropped;
  }

  /** Runs that took a redelivery since the last call (their stored rows do not change, their traces do). */
  takeRedelivered(): Set<string> {
    const taken = this.redelivered;
    this.redelivered = new Set();
    return taken;
  }

  /** A run held in memory, to read (its trace); undefined once it was forgotten or moved away. */
  run(runId: string): Readonly<WorkflowRun> | undefined {
    return this.runs.get(runId);
  }

  get openRuns(): number {
    return this.runs.size;
  }

  stateCounts(): Record<RunState, number> {
    const counts: Record<RunState, number> = { open: 0, completed: 0, failed: 0, deadline_missed: 0, compensated: 0 };
    for (const run of this.runs.values()) counts[run.state]++;
    return counts;
  }

  heldCount(): number {
    return this.held.size;
  }

  /** Idempotency keys remembered by the dedupe window. */
  get dedupeKeys(): number {
    return this.dedupe.size;
  }
}

/**
 * Row versions order first by how many events a run has seen, then by wall time: a run rebuilt
 * from fewer events (a redelivered trigger of a run this instance no longer remembers) can
 * never replace a fuller row in the store.
 */
export function progressVersion(eventCount: number, now: number): number {
  return Math.min(eventCount, 899) * 1e13 + (now % 1e13);
}

/** The error of every event without one: shared, since records are never changed in place. */
const NO_ERROR: EventRecord['error'] = Object.freeze({});

function toEventRecord(event: WorkflowEvent, now: number): EventRecord {
  return {
    source: event.source,
    id: event.id,
    type: event.type,
    time: event.time,
    correlationId: event.correlationId,
    subject: event.subject ?? '',
    data: event.data === undefined ? '' : (event.dataText ?? JSON.stringify(event.data)),
    error: event.error ?? NO_ERROR,
    origin: event.origin,
    receivedAt: now,
  };
}
