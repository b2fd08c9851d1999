import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { AlertChangeRecord, NotificationRecord } from '../domain/alert-records.ts';
import type { Store } from '../domain/store.ts';
import type { AlertChange } from './lifecycle/alert-book.ts';

/** The row an alert change is kept as (alert_changes), live or from a backfill. */
export function alertChangeRecord(change: AlertChange, detectorKind: (detector: string) => string, recordedAt: number): AlertChangeRecord {
  const { alert } = change;
  return {
    fingerprint: alert.fingerprint,
    kind: change.kind,
    detector: alert.labels['detector'] ?? alert.labels['alertname'] ?? '',
    detectorKind: detectorKind(alert.labels['detector'] ?? ''),
    team: alert.labels['team'] ?? '',
    severity: alert.labels['severity'] ?? '',
    workflow: alert.labels['workflow'] ?? '',
    summary: alert.annotations['summary'] ?? '',
    correlationId: alert.annotations['correlation_id'] ?? '',
    startsAt: alert.startsAt,
    endsAt: alert.endsAt,
    recordedAt,
  };
}

export interface AlertHistoryOptions {
  store: Pick<Store, 'writeAlertRecords'>;
  registry: Registry;
  logger: Logger;
  /** The configured kind of a detector by its name ('' for an SLO burn or unknown). */
  detectorKind: (detector: string) => string;
  /** How often buffered rows are written (ms). */
  flushEvery?: number;
  /** Rows held at most; past that new rows are dropped and counted, alerting goes on. */
  capacity?: number;
  now?: () => number;
}

/**
 * Writes alert changes and delivered notifications to the store as rows, in batches, off the
 * alerting path: `change` and `notified` only append to a bounded buffer, so a slow or down
 * store never holds up a page. What does not fit is dropped and counted, not retried forever.
 */
export class AlertHistoryRecorder {
  private changes: AlertChangeRecord[] = [];
  private notifications: NotificationRecord[] = [];
  private readonly capacity: number;
  private readonly now: () => number;
  private readonly dropped: Counter<'table'>;
  private readonly written: Counter<'table'>;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private stopped = false;
  private lastError = '';

  private readonly options: AlertHistoryOptions;

  constructor(options: AlertHistoryOptions) {
    this.options = options;
    this.capacity = options.capacity ?? 10_000;
    this.now = options.now ?? Date.now;
    this.dropped = new Counter({
      name: 'seamwatch_alert_history_dropped_total',
      help: 'Alert history rows dropped because the buffer was full (the store was slow or down); alerting was not held up.',
      labelNames: ['table'],
      registers: [options.registry],
    });
    this.written = new Counter({
      name: 'seamwatch_alert_history_rows_written_total',
      help: 'Alert history rows written to the store.',
      labelNames: ['table'],
      registers: [options.registry],
    });
  }

  /** An alert change from the alert engine. Never throws, never waits. */
  readonly change = (change: AlertChange): void => {
    if (this.stopped) return;
    if (this.changes.length + this.notifications.length >= this.capacity) return void this.dropped.inc({ table: 'alert_changes' });
    this.changes.push(alertChangeRecord(change, this.options.detectorKind, this.now()));
  };

  /** A notification a receiver accepted (the notification log's record). Never throws, never waits. */
  readonly notified = (receiver: string, groupKey: string, sent: { firing: readonly string[]; resolved: readonly string[] }, at: number): void => {
    if (this.stopped) return;
    for (const [state, fingerprints] of [['firing', sent.firing], ['resolved', sent.resolved]] as const) {
      for (const fingerprint of fingerprints) {
        if (this.changes.length + this.notifications.length >= this.capacity) {
          this.dropped.inc({ table: 'notifications' });
          continue;
        }
        this.notifications.push({ receiver, groupKey, fingerprint, state, sentAt: at });
      }
    }
  };

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.flush(), this.options.flushEvery ?? 1_000);
    this.timer.unref();
  }

  /** Writes what is buffered. A failed write puts the rows back (within capacity) for the next flush. */
  flush(): Promise<void> {
    this.flushing ??= this.writeBuffered().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async writeBuffered(): Promise<void> {
    const changes = this.changes;
    const notifications = this.notifications;
    if (changes.length === 0 && notifications.length === 0) return;
    this.changes = [];
    this.notifications = [];
    try {
      await this.options.store.writeAlertRecords({ changes, notifications });
      this.written.inc({ table: 'alert_changes' }, changes.length);
      this.written.inc({ table: 'notifications' }, notifications.length);
      this.lastError = '';
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // Log a failure only when its message changes: one line per outage, not per flush.
      if (message !== this.lastError) this.options.logger.warn({ err: message, rows: changes.length + notifications.length }, 'alert history not written; kept for the next flush');
      this.lastError = message;
      const room = Math.max(0, this.capacity - this.changes.length - this.notifications.length);
      const keptChanges = changes.slice(0, room);
      const keptNotifications = notifications.slice(0, room - keptChanges.length);
      this.dropped.inc({ table: 'alert_changes' }, changes.length - keptChanges.length);
      this.dropped.inc({ table: 'notifications' }, notifications.length - keptNotifications.length);
      this.changes = [...keptChanges, ...this.changes];
      this.notifications = [...keptNotifications, ...this.notifications];
    }
  }

  /** Idempotent, safe before start(): stops the timer and writes what is left once. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
