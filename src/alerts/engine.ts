import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { WorkflowDefinition } from '../domain/workflow.ts';
import type { SloAlertSignal, SloAlertSink } from '../slo/types.ts';
import type { WorkflowEvent } from '../domain/event.ts';
import type { RunRecord } from '../domain/records.ts';
import { createDetectors } from './detectors/build.ts';
import { detectorInputs } from './detectors/inputs.ts';
import type { EventMatcher } from './detectors/detector.ts';
import type { DetectorsConfig } from './detectors/config.ts';
import type { DetectorStep } from './detectors/detector.ts';
import { AlertBook, type AlertChange, type AlertEntry, type LifecycleOptions } from './lifecycle/alert-book.ts';
import type { Alert, DetectorSignal } from './types.ts';

export interface AlertEngineOptions {
  detectors: DetectorsConfig;
  workflows: readonly WorkflowDefinition[];
  lifecycle: LifecycleOptions;
  registry: Registry;
  logger: Logger;
  /** Told of every alert change; the notification path (routing, PagerDuty) hooks in here. */
  onChange?: (change: AlertChange) => void;
}

/** The detector name SLO burn alerts carry. */
export const SLO_BURN = 'slo-burn';

/**
 * Detectors and SLO burn signals in, alerts out: feeds each detector, turns signals into
 * alerts through the lifecycle (fingerprint, pending, keep-firing-for, historic problems
 * recorded not paged), logs and counts each change. Event time throughout.
 */
export class AlertEngine implements SloAlertSink {
  private readonly onEvents;
  private readonly onRuns;
  private eventStates: unknown[];
  private runStates: unknown[];
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
    this.eventStates = this.onEvents.map((d) => d.initial());
    this.runStates = this.onRuns.map((d) => d.initial());
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

  /** A new (not redelivered) workflow event. */
  onEvent(event: WorkflowEvent, watermark: number): void {
    for (let i = 0; i < this.onEvents.length; i++) {
      this.eventStates[i] = this.take(this.onEvents[i]!.apply(this.eventStates[i], event, watermark));
    }
  }

  /** Run rows as the stitcher hands them out (state changes, deadlines passed). */
  onRunRecords(runs: readonly RunRecord[], watermark: number): void {
    if (this.onRuns.length === 0) return;
    for (const run of runs) {
      for (let i = 0; i < this.onRuns.length; i++) this.runStates[i] = this.take(this.onRuns[i]!.apply(this.runStates[i], run, watermark));
    }
  }

  /** Moves event time on for every detector and the lifecycle. */
  tick(watermark: number): void {
    if (!Number.isFinite(watermark)) return;
    for (let i = 0; i < this.onEvents.length; i++) this.eventStates[i] = this.take(this.onEvents[i]!.tick(this.eventStates[i], watermark));
    for (let i = 0; i < this.onRuns.length; i++) this.runStates[i] = this.take(this.onRuns[i]!.tick(this.runStates[i], watermark));
    this.publish(this.book.tick(watermark));
  }

  /** SLO burn-rate signals, through the same lifecycle as detector signals. */
  signal(signal: SloAlertSignal): void {
    const windows = `${Math.round(signal.longWindowMs / 60_000)}m/${Math.round(signal.shortWindowMs / 60_000)}m`;
    this.publish(
      this.book.apply({
        kind: signal.kind,
        detector: SLO_BURN,
        key: `${signal.slo}:${signal.tier}`,
        workflow: signal.workflow,
        owner: signal.owner,
        severity: signal.severity === 'page' ? 'critical' : 'warning',
        summary: `SLO ${signal.slo} is burning its error budget at ${signal.burnRate.toFixed(1)}× (threshold ${signal.factor.toFixed(1)}× over ${windows}); ${(signal.budgetRemaining * 100).toFixed(1)}% of the budget left`,
        at: signal.at,
        details: { slo: signal.slo, tier: signal.tier, burnRate: Number(signal.burnRate.toFixed(3)), budgetRemaining: Number(signal.budgetRemaining.toFixed(4)) },
      }),
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
   * assignment). Their signals are dropped: the restored alert state already says what fired.
   */
  rebuild(events: readonly WorkflowEvent[]): void {
    const sorted = [...events].sort((a, b) => a.time - b.time);
    for (const event of sorted) {
      for (let i = 0; i < this.onEvents.length; i++) this.eventStates[i] = this.onEvents[i]!.apply(this.eventStates[i], event, event.time).state;
    }
  }

  /** The lifecycle's state, for the store. */
  snapshot(): AlertEntry[] {
    return this.book.snapshot();
  }

  /** Continues from a stored snapshot: alerts already paged stay paged, nothing fires again. */
  restore(entries: readonly AlertEntry[]): void {
    this.book.restore(entries);
  }

  private take<S>(step: DetectorStep<S>): S {
    if (step.signals.length > 0) this.publish(this.book.applyAll(step.signals as DetectorSignal[]));
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
