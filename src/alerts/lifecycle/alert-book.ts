import type { Alert, DetectorSignal } from '../types.ts';
import { fingerprint } from './fingerprint.ts';

export interface LifecycleOptions {
  /** A problem must keep firing this long (event time) before it pages: short blips never do. */
  pendingFor: number;
  /** A resolved problem stays firing this long, so one that flaps back does not page twice. */
  keepFiringFor: number;
  /** Base of links to the trace in the web view, e.g. http://seamwatch:9470/traces/ */
  traceUrlBase: string;
  /**
   * A problem already over when it is first seen (its firing and resolved signals arrive
   * together, as in a replay of old events) is recorded, not paged, unless this is true.
   */
  pageHistoric?: boolean;
}

export interface AlertEntry {
  alert: Alert;
  /** Event time from which a pending alert fires. */
  firesAt: number;
  /** Event time at which a firing alert resolves, unless it fires again before. */
  resolvesAt: number;
  /** True once the alert has been firing (left pending): only those are ever notified. */
  fired: boolean;
  /**
   * The Kafka partition whose input raised it: its state moves with that partition to whichever
   * instance owns it. GLOBAL_PARTITION for alerts of no one partition (source silence, duplicate
   * effects), SLO_PARTITION for SLO burn alerts (their owner is the group's SLO lead).
   * Absent in state saved before alerts were owned per partition.
   */
  partition?: number;
}

/** The owner of alerts that no single partition raises. */
export const GLOBAL_PARTITION = -1;

/**
 * The owner of SLO burn alerts: one instance of a consumer group evaluates SLOs and pages their
 * burn (the one holding Kafka partition 0, see slo/lead.ts), and their state moves with that role
 * as a partition's moves with the partition.
 */
export const SLO_PARTITION = -2;

/** What changed, for the notification path and the persisted alert log. */
export interface AlertChange {
  kind: 'pending' | 'firing' | 'resolved' | 'dropped';
  alert: Alert;
}

const NEVER = Number.POSITIVE_INFINITY;

function toAlert(signal: DetectorSignal, options: LifecycleOptions): Alert {
  const workflow = signal.workflow ?? '';
  const labels: Record<string, string> = {
    alertname: signal.detector,
    detector: signal.detector,
    team: signal.owner,
    severity: signal.severity,
    ...(workflow ? { workflow } : {}),
  };
  const annotations: Record<string, string> = {
    summary: signal.summary,
    ...(signal.correlationId ? { correlation_id: signal.correlationId } : {}),
    ...(signal.businessKey ? { business_key: signal.businessKey } : {}),
    ...Object.fromEntries(Object.entries(signal.details ?? {}).map(([k, v]) => [k, String(v)])),
  };
  return {
    fingerprint: fingerprint(signal.detector, workflow, signal.key),
    labels,
    annotations,
    state: 'pending',
    startsAt: signal.at,
    endsAt: 0,
    generatorUrl: signal.correlationId ? `${options.traceUrlBase}${encodeURIComponent(signal.correlationId)}` : '',
  };
}

/**
 * The alerts seamwatch knows, keyed by fingerprint: pending → firing → resolved, with a pending
 * period and keep-firing-for, in event time. Pure: signals and the clock in, changes out.
 */
export class AlertBook {
  private readonly entries = new Map<string, AlertEntry>();
  private readonly options: LifecycleOptions;

  constructor(options: LifecycleOptions, restored: readonly AlertEntry[] = []) {
    this.options = options;
    for (const entry of restored) this.entries.set(entry.alert.fingerprint, entry);
  }

  apply(signal: DetectorSignal, partition: number = GLOBAL_PARTITION): AlertChange[] {
    const fresh = toAlert(signal, this.options);
    const entry = this.entries.get(fresh.fingerprint);
    if (signal.kind === 'firing') {
      if (entry && entry.alert.state !== 'resolved') {
        // Still firing, or flapping back within keep-firing-for: the same problem, one page.
        entry.resolvesAt = NEVER;
        entry.alert = { ...entry.alert, annotations: fresh.annotations };
        return [];
      }
      const firesAt = signal.at + this.options.pendingFor;
      const created: AlertEntry = { alert: fresh, firesAt, resolvesAt: NEVER, fired: false, partition };
      this.entries.set(fresh.fingerprint, created);
      return [{ kind: 'pending', alert: fresh }, ...this.promote(created, signal.at)];
    }
    if (!entry || entry.alert.state === 'resolved') return [];
    if (!entry.fired) {
      // Over before it ever fired: recorded, never paged.
      this.entries.delete(fresh.fingerprint);
      return [{ kind: 'dropped', alert: { ...entry.alert, state: 'resolved', endsAt: signal.at } }];
    }
    entry.resolvesAt = signal.at + this.options.keepFiringFor;
    entry.alert = { ...entry.alert, endsAt: signal.at };
    return this.settle(entry, signal.at);
  }

  /**
   * Applies the signals of one detector step. A problem that both begins and ends within it,
   * and was not known before, is historic: recorded as dropped, never paged.
   */
  applyAll(signals: readonly DetectorSignal[], partition: number = GLOBAL_PARTITION): AlertChange[] {
    const changes: AlertChange[] = [];
    const endedHere = new Set(signals.filter((s) => s.kind === 'resolved').map((s) => `${s.detector}\u0000${s.workflow ?? ''}\u0000${s.key}`));
    for (const signal of signals) {
      const id = `${signal.detector}\u0000${signal.workflow ?? ''}\u0000${signal.key}`;
      const known = this.entries.has(toAlert(signal, this.options).fingerprint);
      if (!this.options.pageHistoric && signal.kind === 'firing' && !known && endedHere.has(id)) {
        const alert = { ...toAlert(signal, this.options), state: 'resolved' as const };
        const end = signals.find((s) => s.kind === 'resolved' && `${s.detector}\u0000${s.workflow ?? ''}\u0000${s.key}` === id)!;
        changes.push({ kind: 'dropped', alert: { ...alert, endsAt: end.at } });
        continue;
      }
      if (signal.kind === 'resolved' && !known && endedHere.has(id) && changes.some((c) => c.kind === 'dropped' && c.alert.fingerprint === toAlert(signal, this.options).fingerprint)) continue;
      changes.push(...this.apply(signal, partition));
    }
    return changes;
  }

  /** Moves event time on: pending alerts fire, resolving ones resolve. */
  tick(now: number): AlertChange[] {
    const changes: AlertChange[] = [];
    for (const entry of this.entries.values()) changes.push(...this.promote(entry, now), ...this.settle(entry, now));
    return changes;
  }

  private promote(entry: AlertEntry, now: number): AlertChange[] {
    if (entry.alert.state !== 'pending' || now < entry.firesAt) return [];
    entry.alert = { ...entry.alert, state: 'firing' };
    entry.fired = true;
    return [{ kind: 'firing', alert: entry.alert }];
  }

  private settle(entry: AlertEntry, now: number): AlertChange[] {
    if (entry.alert.state !== 'firing' || now < entry.resolvesAt) return [];
    entry.alert = { ...entry.alert, state: 'resolved' };
    return [{ kind: 'resolved', alert: entry.alert }];
  }

  /** Forgets resolved alerts that ended before `horizon` (event time), but those `keep` says to keep. */
  forgetResolvedBefore(horizon: number, keep: (fingerprint: string) => boolean = () => false): number {
    let forgotten = 0;
    for (const [key, entry] of this.entries) {
      if (entry.alert.state === 'resolved' && entry.alert.endsAt < horizon && !keep(key)) {
        this.entries.delete(key);
        forgotten++;
      }
    }
    return forgotten;
  }

  /** Replaces what the book holds with entries loaded from the store (a restart). */
  restore(entries: readonly AlertEntry[]): void {
    this.entries.clear();
    for (const entry of entries) this.entries.set(entry.alert.fingerprint, entry);
  }

  /** Whether the book already holds the alert this signal is about, in any state. */
  knows(signal: DetectorSignal): boolean {
    return this.entries.has(fingerprint(signal.detector, signal.workflow ?? '', signal.key));
  }

  /** Hands over (and forgets) the alerts of partitions this instance no longer owns. */
  release(moved: (partition: number) => boolean): AlertEntry[] {
    const released: AlertEntry[] = [];
    for (const [key, entry] of this.entries) {
      if (!moved(entry.partition ?? GLOBAL_PARTITION)) continue;
      this.entries.delete(key);
      released.push(entry);
    }
    return released;
  }

  /** Takes over the saved alerts of partitions this instance now owns. */
  adopt(entries: readonly AlertEntry[]): void {
    for (const entry of entries) this.entries.set(entry.alert.fingerprint, entry);
  }

  list(): Alert[] {
    return [...this.entries.values()].map((e) => e.alert);
  }

  snapshot(): AlertEntry[] {
    return [...this.entries.values()].map((e) => ({ ...e, alert: { ...e.alert } }));
  }
}
