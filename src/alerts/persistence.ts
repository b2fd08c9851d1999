import type { Logger } from 'pino';
import type { AlertEntry } from './lifecycle/alert-book.ts';
import type { NotificationLogState } from './notify/notification-log.ts';
import type { SilenceData } from './silences/silence.ts';
import type { Store } from '../domain/store.ts';

/**
 * Alert state that must outlive a restart: the lifecycle's alerts (what is firing, since when),
 * the notification log (what each receiver was told, which alerts are owed a resolve) and the
 * silences made through the API (each in a document of its own now; older versions kept them here).
 * Saved to the store as documents every few seconds and on stop, loaded before intake starts,
 * so a restart neither pages again nor forgets a resolve.
 */
export interface AlertState {
  alerts: AlertEntry[];
  notificationLog: NotificationLogState | undefined;
  /** Silences made through the API, as older versions saved them (now each is its own document). */
  silences?: SilenceData[];
}

export interface AlertStateSource {
  /** Every document to keep now, by key (see state-documents.ts for how the state is cut): alert state, or a silence. */
  documents(): Map<string, AlertState | SilenceData>;
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
  private readonly logger: Logger;
  private readonly everyMs: number;
  private timer: NodeJS.Timeout | undefined;
  /** What is in the store now, by key: only documents that changed are written. */
  private readonly lastSaved = new Map<string, string>();
  private saving: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private soon = false;

  constructor(options: { store: Store; source: AlertStateSource; logger: Logger; everyMs?: number }) {
    this.store = options.store;
    this.source = options.source;
    this.logger = options.logger;
    this.everyMs = options.everyMs ?? 2_000;
  }

  /** Reads stored documents (those that exist) by key. */
  async load(keys: readonly string[]): Promise<Map<string, AlertState>> {
    const docs = await this.store.loadDocuments(keys);
    const out = new Map<string, AlertState>();
    for (const [key, text] of docs) {
      const state = decodeState<AlertState>(text);
      out.set(key, state);
      this.lastSaved.set(key, text);
    }
    const alerts = [...out.values()].flatMap((state) => state.alerts);
    if (alerts.length > 0) this.logger.info({ documents: [...out.keys()], alerts: alerts.length, firing: alerts.filter((a) => a.alert.state === 'firing').length }, 'restored alert state');
    return out;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.save().catch((error: unknown) => this.logger.warn({ err: error }, 'could not save alert state; will try again')), this.everyMs);
    this.timer.unref();
  }

  /** The store's copy of this document is no longer ours (another instance wrote it): the next save writes it whatever. */
  invalidate(key: string): void {
    this.lastSaved.delete(key);
  }

  /** The store holds this text under this key (read back, as another instance wrote it): a save writes it only once it differs. */
  markSaved(key: string, text: string): void {
    this.lastSaved.set(key, text);
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
        const changed = [...this.source.documents()].map(([key, state]) => ({ key, doc: encodeState(state) })).filter((d) => this.lastSaved.get(d.key) !== d.doc);
        if (changed.length === 0) return;
        await this.store.saveDocuments(changed);
        for (const d of changed) this.lastSaved.set(d.key, d.doc);
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
