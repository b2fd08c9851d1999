import type { Logger } from 'pino';
import type { SloRange, Store } from '../domain/store.ts';
import { CumulativeCounts } from './burn-rate.ts';
import { evaluateAt, evaluateRange } from './evaluate.ts';
import type { SloMetrics } from './metrics.ts';
import { catchUpSpan, cycleEnd, parseProgress, resumePoint, type SloProgress, type SloProgressState } from './progress.ts';
import type { Counts, SloAlertSink, SloDefinition, SloStatus } from './types.ts';
import { windowStart } from './window.ts';

export interface SloEngineOptions {
  slos: readonly SloDefinition[];
  store: Store;
  /** Event time to evaluate at: where the group's verdicts are stored (not finite before the first stored flush). */
  eventTime: () => number | Promise<number>;
  sink: SloAlertSink;
  metrics: SloMetrics;
  logger: Logger;
  /** Wall ms between cycles. */
  evaluateEvery: number;
  /** At most this much event time is caught up minute by minute in one cycle; the rest in the next. */
  maxCatchUpMs?: number;
  /**
   * The store document the engine's progress is saved under (one per consumer group, like the
   * alert state). Without it nothing is saved, and every start is a fresh one.
   */
  stateKey?: string;
  /**
   * When given, the engine evaluates before the pipeline stored its first flush, up to where the
   * stored events reach less this (the pipeline's allowed lateness). Only safe when nothing is
   * about to store verdicts for those minutes: seamwatch itself does not set it, because its
   * pipeline rebuilds the owned partitions at start and stores a flush within a second, traffic
   * or not, and a backlog read at start would otherwise land in minutes already evaluated.
   */
  allowedLateness?: number;
  /** Wall ms between saves of the progress while no tier changes (a change is saved at once). */
  saveEvery?: number;
  /** Wall clock, for the saves. */
  now?: () => number;
  /**
   * Whether this engine pages and saves its progress from the start (default true). With several
   * instances in one consumer group only the lead does (see lead.ts); the others evaluate for
   * their status and metrics and stay silent until lead(true).
   */
  leading?: boolean;
}

const MINUTE = 60_000;

interface Position {
  lastAt: number;
  firing: Set<string>;
}

/**
 * Evaluates every SLO on a timer, in event time: each cycle steps minute by minute from the
 * last evaluated minute towards the watermark, so a replay raises the same burn alerts, in the
 * same order, as the live stream did. Where each SLO got, and which of its tiers fire there,
 * is saved to the store: a restart continues from there and owes no resolve. The counting is
 * the store's; the judging is pure.
 */
export class SloEngine {
  private readonly options: SloEngineOptions;
  private readonly positions = new Map<string, Position>();
  private readonly statuses = new Map<string, SloStatus>();
  private saved: Map<string, SloProgress> | undefined;
  private storedEventTime: number | undefined;
  private lastSavedText = '';
  private lastSaveAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private leading: boolean;

  constructor(options: SloEngineOptions) {
    this.options = options;
    this.leading = options.leading ?? true;
  }

  get isLead(): boolean {
    return this.leading;
  }

  /**
   * Takes up or hands over paging the group's SLO burn. A cycle in progress ends in the old role
   * first. The lead handing over saves where it got; the new lead starts again from the saved
   * progress and the burn alerts it took over (sink.firingTiers), not from where it evaluated
   * silently, so the burns the old lead paged are resolved by the new one and not paged again.
   */
  async lead(on: boolean): Promise<void> {
    while (this.running) await this.running;
    if (on === this.leading) return;
    // Silent before the last save: a cycle that starts meanwhile pages nothing past it.
    this.leading = on;
    if (!on && this.positions.size > 0) await this.save(true);
    if (on) {
      this.positions.clear();
      this.saved = undefined;
      this.lastSavedText = '';
    }
  }

  get definitions(): readonly SloDefinition[] {
    return this.options.slos;
  }

  start(): void {
    if (this.options.slos.length === 0 || this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.cycle(), this.options.evaluateEvery);
    this.timer.unref();
  }

  /** The newest status of each SLO, from the last cycle. */
  status(name?: string): SloStatus[] {
    const all = [...this.statuses.values()];
    return name === undefined ? all : all.filter((s) => s.slo.name === name);
  }

  /** One cycle; concurrent calls share the one in progress. */
  cycle(): Promise<void> {
    this.running ??= this.evaluate()
      .catch((error: unknown) => this.options.logger.warn({ err: error }, 'SLO evaluation failed; will try again next cycle'))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /**
   * The event time to evaluate up to. Before the pipeline stored a flush (just after a restart,
   * while no traffic comes), where the stored events reach: what was stored before the restart
   * is evaluated without waiting for new traffic.
   */
  private async target(): Promise<number> {
    const watermark = await this.options.eventTime();
    if (Number.isFinite(watermark) || this.options.allowedLateness === undefined) return watermark;
    if (this.storedEventTime === undefined) {
      const reached = await this.options.store.eventTimeReached(null);
      if (reached === null) return Number.NEGATIVE_INFINITY;
      this.storedEventTime = reached - (this.options.allowedLateness ?? 0);
    }
    return this.storedEventTime;
  }

  /** Where each SLO starts: loaded once; a store that does not answer fails the cycle, which is retried. */
  private async resume(at: number): Promise<void> {
    const { slos, store, stateKey, sink } = this.options;
    if (this.saved === undefined) {
      this.saved = stateKey ? parseProgress((await store.loadDocuments([stateKey])).get(stateKey)) : new Map();
    }
    for (const slo of slos) {
      if (this.positions.has(slo.name)) continue;
      const start = resumePoint(slo, at, this.saved.get(slo.name), sink.firingTiers?.(slo.name));
      this.positions.set(slo.name, { lastAt: start.fromExclusive, firing: start.firing });
      this.options.logger.info(
        { slo: slo.name, from: new Date(start.fromExclusive).toISOString(), firing: [...start.firing], resumed: this.saved.has(slo.name) },
        'SLO evaluation starts',
      );
    }
  }

  private async evaluate(): Promise<void> {
    const target = await this.target();
    if (!Number.isFinite(target)) return;
    const at = Math.floor(target / MINUTE) * MINUTE;
    await this.resume(at);
    const { slos, store, metrics, sink } = this.options;
    const maxCatchUp = this.options.maxCatchUpMs ?? 86_400_000;
    // An SLO with no status yet gets one where it stands, even when event time has not passed
    // that point again (a restart whose saved progress is ahead of what the store reaches).
    const due = slos
      .map((slo) => ({ slo, position: this.positions.get(slo.name)! }))
      .filter(({ slo, position }) => at > position.lastAt || !this.statuses.has(slo.name))
      .map(({ slo, position }) => ({ slo, position, from: position.lastAt, to: at > position.lastAt ? cycleEnd(position.lastAt, at, maxCatchUp) : position.lastAt }));
    if (due.length === 0) return;
    const timer = metrics.evaluationSeconds.startTimer();
    const seriesRanges: SloRange[] = due.map(({ slo, from, to }) => ({
      slo: slo.name,
      fromMinute: Math.floor((from - catchUpSpan(slo)) / MINUTE),
      toMinute: to / MINUTE,
    }));
    const budgetRanges: SloRange[] = due.map(({ slo, to }) => ({
      slo: slo.name,
      fromMinute: Math.ceil(windowStart(slo.window, to) / MINUTE),
      toMinute: to / MINUTE,
    }));
    const [series, budgets] = await Promise.all([store.sloMinutes(seriesRanges), store.sloCounts(budgetRanges)]);
    let changed = false;
    for (const { slo, position, from, to } of due) {
      const budget: Counts = budgets.get(slo.name) ?? { good: 0, total: 0 };
      const minutes = series.get(slo.name) ?? [];
      // A signal carries the budget left at its own minute, not at the end of the cycle, so a
      // catch-up says what the live engine said. Signals are rare: their budgets are read after.
      const first = evaluateRange(slo, minutes, () => budget, from, to, position.firing);
      const budgetAt = first.signals.length === 0 ? undefined : await this.budgetsAt(slo, first.signals.map((s) => s.at));
      const result = budgetAt ? evaluateRange(slo, minutes, (t) => (t === to ? budget : budgetAt(t)), from, to, position.firing) : first;
      if (this.leading) {
        for (const signal of result.signals) {
          metrics.alerts.inc({ slo: signal.slo, tier: signal.tier, kind: signal.kind });
          sink.signal(signal);
          changed = true;
        }
      }
      position.firing = result.firing;
      position.lastAt = to;
      const status = result.status ?? evaluateAt(slo, minutes, budget, to, position.firing).status;
      this.statuses.set(slo.name, status);
      metrics.publish(status);
    }
    timer();
    if (this.leading) await this.save(changed);
  }

  /**
   * The runs counted in the SLO window ending at each of these minute boundaries, from one read
   * of the minutes they span: a catch-up through a flapping burn raises many signals.
   */
  private async budgetsAt(slo: SloDefinition, ats: readonly number[]): Promise<(at: number) => Counts> {
    const first = Math.min(...ats);
    const last = Math.max(...ats);
    const fromMinute = Math.ceil(windowStart(slo.window, first) / MINUTE);
    const minutes = (await this.options.store.sloMinutes([{ slo: slo.name, fromMinute, toMinute: last / MINUTE }])).get(slo.name) ?? [];
    const counts = new CumulativeCounts(minutes);
    return (at) => {
      const end = Math.floor(at / MINUTE);
      return counts.windowCounts(end, (end - Math.ceil(windowStart(slo.window, at) / MINUTE)) * MINUTE);
    };
  }

  /**
   * Saves where each SLO got. A tier change is saved at once; plain progress every `saveEvery`.
   * A failed save is logged and tried again: the evaluation itself already happened.
   */
  private async save(force: boolean): Promise<void> {
    const { stateKey, store, logger } = this.options;
    if (!stateKey) return;
    const now = (this.options.now ?? Date.now)();
    if (!force && now - this.lastSaveAt < (this.options.saveEvery ?? 2_000)) return;
    const state: SloProgressState = { slos: {} };
    for (const [name, p] of this.positions) state.slos[name] = { lastAt: p.lastAt, firing: [...p.firing].sort() };
    const text = JSON.stringify(state);
    if (text === this.lastSavedText) return;
    try {
      await store.saveDocuments([{ key: stateKey, doc: text }]);
      this.lastSavedText = text;
      this.lastSaveAt = now;
    } catch (error) {
      logger.warn({ err: error }, 'could not save SLO evaluation progress; will try again');
    }
  }

  /** Stops the timer, waits for a cycle in progress and saves the progress. Safe twice and before start(). */
  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    if (this.leading && this.positions.size > 0) await this.save(true);
  }
}
