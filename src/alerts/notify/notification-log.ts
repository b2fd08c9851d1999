import type { NotificationLogEntry } from './dedup.ts';

/**
 * The notification log (Alertmanager's nflog) as plain data: what each receiver was last told
 * per group, for dedup and `repeat_interval`, and which alerts each receiver has open (triggered
 * and not resolved there), which is what makes a resolve owed. The store persists the state;
 * a restart that reloads it neither re-pages nor forgets a resolve.
 */
export interface NotificationLogState {
  /** By `logKey(receiver, groupKey)`. */
  entries: Readonly<Record<string, NotificationLogEntry>>;
  /** By receiver, then fingerprint: when it was triggered there. */
  open: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export const EMPTY_NOTIFICATION_LOG: NotificationLogState = { entries: {}, open: {} };

export const logKey = (receiver: string, groupKey: string) => `${receiver}\u0000${groupKey}`;

/** What the dedup stage reads. */
export interface NotificationLogView {
  entry(receiver: string, groupKey: string): NotificationLogEntry | undefined;
  isOpen(receiver: string, fingerprint: string): boolean;
}

/** What the record stage writes: a delivery that a receiver accepted. */
export interface NotificationLog extends NotificationLogView {
  record(receiver: string, groupKey: string, sent: Sent, at: number): void;
}

/** What one notification told a receiver; `refused` firing alerts were rejected by it (told, never opened). */
export interface Sent {
  firing: readonly string[];
  resolved: readonly string[];
  refused?: readonly string[];
}

/** Records a delivered notification: the group's entry, and the receiver's open alerts. */
export function recordSent(
  state: NotificationLogState,
  receiver: string,
  groupKey: string,
  sent: Sent,
  at: number,
): NotificationLogState {
  const open: Record<string, number> = { ...(state.open[receiver] ?? {}) };
  for (const fingerprint of sent.firing) open[fingerprint] ??= at;
  for (const fingerprint of sent.resolved) delete open[fingerprint];
  return {
    entries: { ...state.entries, [logKey(receiver, groupKey)]: { firing: [...sent.firing, ...(sent.refused ?? [])].sort(), resolved: [...sent.resolved].sort(), sentAt: at } },
    open: { ...state.open, [receiver]: open },
  };
}

/**
 * Forgets group entries not written for `retentionMs` (Alertmanager keeps 5 days; it must be
 * longer than every `repeat_interval`). Open alerts are never forgotten here: each is owed a
 * resolve until one is delivered.
 */
export function pruneLog(state: NotificationLogState, now: number, retentionMs: number): NotificationLogState {
  const entries = Object.fromEntries(Object.entries(state.entries).filter(([, e]) => e.sentAt + retentionMs > now));
  return { entries, open: state.open };
}

/** True when some receiver was sent this alert's trigger and not yet its resolve. */
export function isOpenAnywhere(state: NotificationLogState, fingerprint: string): boolean {
  return Object.values(state.open).some((open) => Object.hasOwn(open, fingerprint));
}

/** The log over a state held in memory; the store loads and saves `state`. */
export class InMemoryNotificationLog implements NotificationLog {
  private current: NotificationLogState;

  constructor(state: NotificationLogState = EMPTY_NOTIFICATION_LOG) {
    this.current = state;
  }

  get state(): NotificationLogState {
    return this.current;
  }

  /** Replaces the state with one loaded from the store (a restart). */
  replace(state: NotificationLogState): void {
    this.current = state;
  }

  entry(receiver: string, groupKey: string): NotificationLogEntry | undefined {
    return this.current.entries[logKey(receiver, groupKey)];
  }

  isOpen(receiver: string, fingerprint: string): boolean {
    return Object.hasOwn(this.current.open[receiver] ?? {}, fingerprint);
  }

  /** True when some receiver was sent this alert's trigger and not yet its resolve. */
  isOpenAnywhere(fingerprint: string): boolean {
    return isOpenAnywhere(this.current, fingerprint);
  }

  /** Told after every recorded delivery (the store saves the log then). */
  onRecord: (() => void) | undefined;

  /** Told what was delivered, after every recorded delivery (the alert history writes rows then). */
  onSent: ((receiver: string, groupKey: string, sent: Sent, at: number) => void) | undefined;

  record(receiver: string, groupKey: string, sent: Sent, at: number): void {
    this.current = recordSent(this.current, receiver, groupKey, sent, at);
    this.onRecord?.();
    this.onSent?.(receiver, groupKey, sent, at);
  }
}
