import type { Logger } from 'pino';
import type { AlertEntry } from './lifecycle/alert-book.ts';
import type { NotificationLogState } from './notify/notification-log.ts';
import type { SilenceData } from './silences/silence.ts';
import type { Store } from '../domain/store.ts';

/**
 * Alert state that must outlive a restart: the lifecycle's alerts (what is firing, since when),
 * the notification log (what each receiver was told, which alerts are owed a resolve) and the
 * silences made through the API.
 * Saved to the store as documents every few seconds and on stop, loaded before intake starts,
 * so a restart neither pages again nor forgets a resolve.
 */
export interface AlertState {
  alerts: AlertEntry[];
  notificationLog: NotificationLogState | undefined;
  /** Silences made through the API (absent in state saved before they existed). */
  silences?: SilenceData[];
}

export interface AlertStateSource {
  snapshot(): AlertState;
  restore(state: AlertState): void;
}

/** JSON that keeps Infinity (never) and -Infinity, which plain JSON turns into null. */
export function encodeState(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { $number: String(v) } : v));
}

export function decodeState<T>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => (v !== null && typeof v === 'object' && '$number' in v ? Number((v as { $number: string }).$number) : v)) as T;
}

export class AlertStatePersistence {
  private readonly store: Store;
  private readonly source: AlertStateSource;
  private readonly key: string;
  private readonly logger: Logger;
  private readonly everyMs: number;
  private timer: NodeJS.Timeout | undefined;
  private lastSaved = '';
  private saving: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private soon = false;

  constructor(options: { store: Store; source: AlertStateSource; key: string; logger: Logger; everyMs?: number }) {
    this.store = options.store;
    this.source = options.source;
    this.key = options.key;
    this.logger = options.logger;
    this.everyMs = options.everyMs ?? 2_000;
  }

  /** Loads the stored state, if any, into the source. */
  async load(): Promise<void> {
    const docs = await this.store.loadDocuments([this.key]);
    const text = docs.get(this.key);
    if (!text) return;
    const state = decodeState<AlertState>(text);
    this.source.restore(state);
    this.lastSaved = text;
    this.logger.info({ alerts: state.alerts.length, firing: state.alerts.filter((a) => a.alert.state === 'firing').length }, 'restored alert state');
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.save().catch((error: unknown) => this.logger.warn({ err: error }, 'could not save alert state; will try again')), this.everyMs);
    this.timer.unref();
  }

  /**
   * Saves as soon as possible, without waiting for the timer: called when a receiver accepted a
   * notification, so that a crash right after a page does not forget it was sent.
   */
  saveSoon(): void {
    if (this.soon) return;
    this.soon = true;
    queueMicrotask(() => {
      this.soon = false;
      this.save().catch((error: unknown) => this.logger.warn({ err: error }, 'could not save alert state; will try again'));
    });
  }

  /**
   * Saves the state when it changed since the last save. A save in progress holds a snapshot
   * taken before this call, so this one waits for it and then snapshots again: when the promise
   * resolves, the state as of the call is stored (the pipeline counts on that before it commits).
   * At most one save waits behind the running one, and callers share it.
   */
  save(): Promise<void> {
    if (this.queued) return this.queued;
    const next = (this.saving ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        this.queued = undefined;
        const text = encodeState(this.source.snapshot());
        if (text === this.lastSaved) return;
        await this.store.saveDocuments([{ key: this.key, doc: text }]);
        this.lastSaved = text;
      });
    this.queued = next;
    this.saving = next;
    return next;
  }

  /**
   * Stops the timer and saves once more. Safe twice and before start(). A store that does not
   * answer is logged, not thrown: the last periodic save stands, and PagerDuty's dedup_key keeps
   * a re-sent trigger from opening a second incident.
   */
  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.save().catch((error: unknown) => this.logger.warn({ err: error }, 'could not save alert state on stop; the last saved state stands'));
  }
}
