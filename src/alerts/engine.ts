import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { CounterDeltas } from '../base/counter-deltas.ts';
import { entryCount } from '../base/entry-count.ts';
import type { WorkflowDefinition } from '../domain/workflow.ts';
import type { SloAlertSignal, SloAlertSink } from '../slo/types.ts';
import type { WorkflowEvent } from '../domain/event.ts';
import type { RunRecord } from '../domain/records.ts';
import { createDetectors } from './detectors/build.ts';
import { detectorInputs } from './detectors/inputs.ts';
import type { EventMatcher } from './detectors/detector.ts';
import type { DetectorsConfig } from './detectors/config.ts';
import type { DetectorStep } from './detectors/detector.ts';
import { AlertBook, GLOBAL_PARTITION, SLO_PARTITION, type AlertChange, type AlertEntry, type LifecycleOptions } from './lifecycle/alert-book.ts';
import type { Alert, DetectorSignal } from './types.ts';

export interface AlertEngineOptions {
  detectors: DetectorsConfig;
  workflows: readonly WorkflowDefinition[];
  lifecycle: LifecycleOptions;
  registry: Registry;
  logger: Logger;
  /** Told of every alert change; the notification path (routing, PagerDuty) hooks in here. */
  onChange?: (change: AlertChange) => void;
  /**
   * How long resolved alerts are kept (event time) before they are forgotten; at least the
   * detectors' horizon is kept whatever this says. Unset: never forgotten.
   */
  resolvedRetentionMs?: number;
  /** A resolved alert some receiver is still owed the resolve of is kept. */
  stillOwed?: (fingerprint: string) => boolean;
}

/** Resolved alerts are looked over for forgetting at most this often, in event time. */
const FORGET_EVERY_MS = 60_000;

/** The detector name SLO burn alerts carry. */
export const SLO_BURN = 'slo-burn';

/** Detectors' running totals that become `seamwatch_detector_drops_total`, and the reason label of each. */
const DROP_REASONS: Readonly<Record<string, string>> = {
  tooOld: 'too_old',
  withoutKey: 'without_key',
  withoutBusinessKey: 'without_key',
  afterEnd: 'after_end',
  stale: 'stale',
  transientFailures: 'transient_failure',
  evicted: 'evicted',
  expired: 'expired',
};

/**
 * Detectors and SLO burn signals in, alerts out: feeds each detector, turns signals into
 * alerts through the lifecycle (fingerprint, pending, keep-firing-for, historic problems
 * recorded not paged), logs and counts each change. Event time throughout.
 */
export class AlertEngine implements SloAlertSink {
  private readonly onEvents;
  private readonly onRuns;
  /** Per event detector: whether its memory is owned per partition (keys of one run) or shared. */
  private readonly partitionLocal: boolean[];
  /** Memory of the shared event detectors (cross-run business keys, whole sources). */
  private readonly shared: unknown[];
  /** Memory of partition-local detectors, by partition: it moves with the partition. */
  private readonly partitions = new Map<number, { events: unknown[]; runs: unknown[] }>();
  /** Drop totals of partitions handed over, so the counters do not count down. */
  private readonly handedOver = new Map<string, number>();
  private readonly book: AlertBook;
  private readonly options: AlertEngineOptions;
  private readonly changes: Counter<'detector' | 'change'>;
  private readonly firing: Gauge<'detector'>;
  private readonly names: Set<string>;
  /** The event types the event detectors read, and how far back they remember. */
  readonly inputs: { matchers: EventMatcher[]; horizonMs: number };

  constructor(options: AlertEngineOptions) {
    this.options = options;
    const set = createDetectors(options.detectors, options.workflows);
    this.onEvents = set.onEvents;
    this.onRuns = set.onRuns;
    this.partitionLocal = set.partitionLocal;
    this.shared = this.onEvents.map((d) => d.initial());
    this.book = new AlertBook(options.lifecycle);
    this.inputs = detectorInputs(options.detectors, options.workflows);
    this.names = new Set([...this.onEvents, ...this.onRuns].map((d) => d.name).concat(SLO_BURN));
    const registers = [options.registry];
    this.changes = new Counter({
      name: 'seamwatch_alert_changes_total',
      help: 'Alert lifecycle changes: pending, firing, resolved, dropped (over before it fired, recorded not paged).',
      labelNames: ['detector', 'change'],
      registers,
    });
    const dropDeltas = new CounterDeltas();
    const totals = () => this.dropTotals();
    new Counter({
      name: 'seamwatch_detector_drops_total',
      help: 'What detectors set aside or stopped watching, by reason: too_old (older than the window at the watermark), without_key (no business key), after_end, stale (an older run verdict), transient_failure (not a partial failure), evicted (pushed out by maxKeys), expired (forgotten past the window).',
      labelNames: ['detector', 'reason'],
      registers,
      collect() {
        // The totals live in the detectors' own (pure) state; read them as /metrics is scraped.
        for (const [key, total] of totals()) {
          const [detector, name] = key.split('\u0000') as [string, string];
          const reason = DROP_REASONS[name];
          const delta = reason ? dropDeltas.delta(key, total) : 0;
          if (delta > 0) this.inc({ detector, reason: reason! }, delta);
        }
      },
    });
    const book = this.book;
    const names = this.names;
    this.firing = new Gauge({
      name: 'seamwatch_alerts_firing',
      help: 'Alerts firing now, by detector.',
      labelNames: ['detector'],
      registers,
      collect() {
        const counts = new Map([...names].map((n) => [n, 0]));
        for (const alert of book.list()) if (alert.state === 'firing') counts.set(alert.labels['detector']!, (counts.get(alert.labels['detector']!) ?? 0) + 1);
        for (const [detector, n] of counts) this.set({ detector }, n);
      },
    });
  }

  get hasEventDetectors(): boolean {
    return this.onEvents.length > 0;
  }

  private slot(partition: number): { events: unknown[]; runs: unknown[] } {
    let slot = this.partitions.get(partition);
    if (!slot) {
      slot = { events: this.onEvents.map((d, i) => (this.partitionLocal[i] ? d.initial() : undefined)), runs: this.onRuns.map((d) => d.initial()) };
      this.partitions.set(partition, slot);
    }
    return slot;
  }

  /** A new (not redelivered) workflow event. */
  onEvent(event: WorkflowEvent, watermark: number): void {
    this.applyEvent(event, watermark, 'live');
  }

  /**
   * `live`: every signal goes to the lifecycle. `remembered`: only signals of alerts the book
   * does not know — one raised live after its input was committed (by event time passing) and
   * killed before the book was saved; what the book knows, it knows better. (A problem that began
   * and ended in one step stays recorded-not-paged, as it was live.)
   */
  private applyEvent(event: WorkflowEvent, watermark: number, mode: 'live' | 'remembered'): void {
    const partition = event.origin.partition;
    const slot = this.slot(partition);
    for (let i = 0; i < this.onEvents.length; i++) {
      const states = this.partitionLocal[i] ? slot.events : this.shared;
      let step = this.onEvents[i]!.apply(states[i], event, watermark);
      if (mode === 'remembered') step = { ...step, signals: step.signals.filter((s) => !this.book.knows(s as DetectorSignal)) };
      states[i] = this.take(step, partition);
    }
  }

  /** Run rows as the stitcher hands them out (state changes, deadlines passed). */
  onRunRecords(runs: readonly RunRecord[], watermark: number): void {
    if (this.onRuns.length === 0) return;
    for (const run of runs) {
      const slot = this.slot(run.partition);
      for (let i = 0; i < this.onRuns.length; i++) slot.runs[i] = this.take(this.onRuns[i]!.apply(slot.runs[i], run, watermark), run.partition);
    }
  }

  /** Moves event time on for every detector and the lifecycle. */
  tick(watermark: number): void {
    if (!Number.isFinite(watermark)) return;
    for (let i = 0; i < this.onEvents.length; i++) {
      if (!this.partitionLocal[i]) this.shared[i] = this.take(this.onEvents[i]!.tick(this.shared[i], watermark), GLOBAL_PARTITION);
    }
    for (const [partition, slot] of this.partitions) {
      for (let i = 0; i < this.onEvents.length; i++) {
        if (this.partitionLocal[i]) slot.events[i] = this.take(this.onEvents[i]!.tick(slot.events[i], watermark), partition);
      }
      for (let i = 0; i < this.onRuns.length; i++) slot.runs[i] = this.take(this.onRuns[i]!.tick(slot.runs[i], watermark), partition);
    }
    this.publish(this.book.tick(watermark));
    this.forgetOld(watermark);
  }

  private lastForget = Number.NEGATIVE_INFINITY;

  /** Keeps memory bounded: resolved alerts past their retention go (see AlertEngineOptions). */
  private forgetOld(watermark: number): void {
    const { resolvedRetentionMs, stillOwed } = this.options;
    if (resolvedRetentionMs === undefined || watermark - this.lastForget < FORGET_EVERY_MS) return;
    this.lastForget = watermark;
    const keepFor = Math.max(resolvedRetentionMs, this.inputs.horizonMs);
    const forgotten = this.book.forgetResolvedBefore(watermark - keepFor, stillOwed);
    if (forgotten > 0) this.options.logger.debug({ forgotten, keepForMs: keepFor }, 'forgot resolved alerts past their retention');
  }

  /**
   * Partitions moved to another instance: their alerts and their detectors' memory go (the new
   * owner loads the alerts saved before the last commit, and rebuilds the memory from the store).
   * Returns the alerts handed over. Shared detectors keep what they remember.
   */
  release(partitions: readonly number[]): AlertEntry[] {
    const moved = new Set(partitions);
    for (const partition of moved) {
      const slot = this.partitions.get(partition);
      if (!slot) continue;
      for (const [key, total] of this.slotTotals(slot)) this.handedOver.set(key, (this.handedOver.get(key) ?? 0) + total);
      this.partitions.delete(partition);
    }
    return this.book.release((partition) => moved.has(partition));
  }

  /** Takes over the saved alerts of partitions this instance now owns. */
  adopt(entries: readonly AlertEntry[]): void {
    this.book.adopt(entries);
  }

  private *slotTotals(slot: { events: unknown[]; runs: unknown[] }): Generator<[string, number]> {
    for (let i = 0; i < this.onEvents.length; i++) {
      if (this.partitionLocal[i]) for (const [name, total] of Object.entries(this.onEvents[i]!.counters(slot.events[i]))) yield [`${this.onEvents[i]!.name}\u0000${name}`, total];
    }
    for (let i = 0; i < this.onRuns.length; i++) for (const [name, total] of Object.entries(this.onRuns[i]!.counters(slot.runs[i]))) yield [`${this.onRuns[i]!.name}\u0000${name}`, total];
  }

  /** Every detector's drop totals, summed over partitions (those handed over included). */
  private dropTotals(): Map<string, number> {
    const totals = new Map(this.handedOver);
    const add = (key: string, total: number) => totals.set(key, (totals.get(key) ?? 0) + total);
    for (let i = 0; i < this.onEvents.length; i++) {
      if (!this.partitionLocal[i]) for (const [name, total] of Object.entries(this.onEvents[i]!.counters(this.shared[i]))) add(`${this.onEvents[i]!.name}\u0000${name}`, total);
    }
    for (const slot of this.partitions.values()) for (const [key, total] of this.slotTotals(slot)) add(key, total);
    return totals;
  }

  /** SLO burn-rate signals, through the same lifecycle as detector signals. */
  signal(signal: SloAlertSignal): void {
    const windows = `${Math.round(signal.longWindowMs / 60_000)}m/${Math.round(signal.shortWindowMs / 60_000)}m`;
    this.publish(
      this.book.apply(
        {
        kind: signal.kind,
        detector: SLO_BURN,
        key: `${signal.slo}:${signal.tier}`,
        workflow: signal.workflow,
        owner: signal.owner,
        severity: signal.severity === 'page' ? 'critical' : 'warning',
        summary: `SLO ${signal.slo} is burning its error budget at ${signal.burnRate.toFixed(1)}× (threshold ${signal.factor.toFixed(1)}× over ${windows}); ${(signal.budgetRemaining * 100).toFixed(1)}% of the budget left`,
        at: signal.at,
        details: { slo: signal.slo, tier: signal.tier, burnRate: Number(signal.burnRate.toFixed(3)), budgetRemaining: Number(signal.budgetRemaining.toFixed(4)) },
        },
        SLO_PARTITION,
      ),
    );
  }

  /**
   * The burn tiers of an SLO whose last signal was firing: pending or firing alerts with no
   * resolve under way (keep-firing-for). After a restore, what the SLO engine owes a resolve to.
   */
  firingTiers(slo: string): ReadonlySet<string> {
    const tiers = new Set<string>();
    for (const entry of this.book.snapshot()) {
      const { alert } = entry;
      if (alert.labels['detector'] !== SLO_BURN || alert.annotations['slo'] !== slo) continue;
      const told = alert.state === 'pending' || (alert.state === 'firing' && entry.resolvesAt === Number.POSITIVE_INFINITY);
      if (told && alert.annotations['tier']) tiers.add(alert.annotations['tier']);
    }
    return tiers;
  }

  alerts(): Alert[] {
    return this.book.list();
  }

  /**
   * Rebuilds the event detectors' memory from stored events (after a restart or a partition
   * assignment). `remembered` are events behind the committed offsets: the alert state saved
   * with their flush says what they raised, so only signals of alerts it does not know go on
   * (raised later by event time passing, and lost with a kill before the next save). `replayed`
   * are stored events at or past the committed offsets: a crash may have come before the alert
   * state that they changed was saved, so they go through the lifecycle again, as they did live
   * (an alert already in the book stays one alert).
   */
  rebuild(remembered: readonly WorkflowEvent[], replayed: readonly WorkflowEvent[] = []): void {
    for (const event of [...remembered].sort((a, b) => a.time - b.time)) this.applyEvent(event, event.time, 'remembered');
    for (const event of [...replayed].sort((a, b) => a.time - b.time)) this.applyEvent(event, event.time, 'live');
  }

  /** Entries the detectors remember (first invoices, open tickets, …), shared and per partition. */
  memoryEntries(): number {
    let n = entryCount(this.shared);
    for (const slot of this.partitions.values()) n += entryCount(slot.events) + entryCount(slot.runs);
    return n;
  }

  /** Alerts in the book, firing and resolved (resolved ones until their retention). */
  get bookSize(): number {
    return this.book.list().length;
  }

  /** The lifecycle's state, for the store. */
  snapshot(): AlertEntry[] {
    return this.book.snapshot();
  }

  /** Continues from a stored snapshot: alerts already paged stay paged, nothing fires again. */
  restore(entries: readonly AlertEntry[]): void {
    this.book.restore(entries);
  }

  private take<S>(step: DetectorStep<S>, partition: number): S {
    if (step.signals.length > 0) this.publish(this.book.applyAll(step.signals as DetectorSignal[], partition));
    return step.state;
  }

  private publish(changes: readonly AlertChange[]): void {
    const { logger, onChange } = this.options;
    for (const change of changes) {
      const detector = change.alert.labels['detector'] ?? 'unknown';
      this.changes.inc({ detector: this.names.has(detector) ? detector : 'unknown', change: change.kind });
      const fields = { fingerprint: change.alert.fingerprint, ...change.alert.labels, summary: change.alert.annotations['summary'], correlationId: change.alert.annotations['correlation_id'], at: new Date(change.kind === 'resolved' || change.kind === 'dropped' ? change.alert.endsAt : change.alert.startsAt).toISOString() };
      if (change.kind === 'firing') logger.warn(fields, 'alert firing');
      else if (change.kind === 'resolved') logger.info(fields, 'alert resolved');
      else if (change.kind === 'dropped') logger.info(fields, 'alert recorded, not paged: over before it fired');
      onChange?.(change);
    }
  }
}
