import type { Logger } from 'pino';
import type { SloRange, Store } from '../domain/store.ts';
import { evaluateAt, evaluateRange } from './evaluate.ts';
import type { SloMetrics } from './metrics.ts';
import type { Counts, SloAlertSink, SloDefinition, SloStatus } from './types.ts';
import { windowStart } from './window.ts';

export interface SloEngineOptions {
  slos: readonly SloDefinition[];
  store: Store;
  /** Event time to evaluate at: the pipeline's watermark. */
  eventTime: () => number;
  sink: SloAlertSink;
  metrics: SloMetrics;
  logger: Logger;
  /** Wall ms between cycles. */
  evaluateEvery: number;
  /** At most this much event time is caught up minute by minute in one cycle (a replay). */
  maxCatchUpMs?: number;
}

const MINUTE = 60_000;

/**
 * Evaluates every SLO on a timer, in event time: each cycle steps minute by minute from the
 * last evaluated minute to the watermark, so a replay raises the same burn alerts, in the
 * same order, as the live stream did. The counting is the store's; the judging is pure.
 */
export class SloEngine {
  private readonly options: SloEngineOptions;
  private readonly firing = new Map<string, Set<string>>();
  private readonly statuses = new Map<string, SloStatus>();
  private lastAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(options: SloEngineOptions) {
    this.options = options;
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

  private async evaluate(): Promise<void> {
    const watermark = this.options.eventTime();
    if (!Number.isFinite(watermark)) return;
    const at = Math.floor(watermark / MINUTE) * MINUTE;
    if (this.lastAt !== undefined && at <= this.lastAt) return;
    const { slos, store, metrics, sink } = this.options;
    const timer = metrics.evaluationSeconds.startTimer();
    const maxCatchUp = this.options.maxCatchUpMs ?? 86_400_000;
    const from = Math.max(this.lastAt ?? at - MINUTE, at - maxCatchUp);
    const longest = (slo: SloDefinition) => Math.max(MINUTE, ...slo.alerting.tiers.map((t) => t.longWindowMs));
    const seriesRanges: SloRange[] = slos.map((slo) => ({
      slo: slo.name,
      fromMinute: Math.floor((from - longest(slo)) / MINUTE),
      toMinute: at / MINUTE,
    }));
    const budgetRanges: SloRange[] = slos.map((slo) => ({
      slo: slo.name,
      fromMinute: Math.ceil(windowStart(slo.window, at) / MINUTE),
      toMinute: at / MINUTE,
    }));
    const [series, budgets] = await Promise.all([store.sloMinutes(seriesRanges), store.sloCounts(budgetRanges)]);
    for (const slo of slos) {
      const wasFiring = this.firing.get(slo.name) ?? new Set<string>();
      const budget: Counts = budgets.get(slo.name) ?? { good: 0, total: 0 };
      const result = evaluateRange(slo, series.get(slo.name) ?? [], () => budget, from, at, wasFiring);
      for (const signal of result.signals) {
        if (signal.kind === 'firing') wasFiring.add(signal.tier);
        else wasFiring.delete(signal.tier);
        metrics.alerts.inc({ slo: signal.slo, tier: signal.tier, kind: signal.kind });
        sink.signal(signal);
      }
      this.firing.set(slo.name, wasFiring);
      const status = result.status ?? evaluateAt(slo, series.get(slo.name) ?? [], budget, at, wasFiring).status;
      this.statuses.set(slo.name, status);
      metrics.publish(status);
    }
    this.lastAt = at;
    timer();
  }

  /** Stops the timer and waits for a cycle in progress. Safe twice and before start(). */
  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
