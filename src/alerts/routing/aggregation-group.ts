import type { Alert } from '../types.ts';

/**
 * One aggregation group's timers as a pure state machine (Alertmanager's aggrGroup): the first
 * flush comes `group_wait` after the group began, so alerts that start together go out
 * together; later flushes come every `group_interval` while the group holds alerts. Each flush
 * hands every alert of the group to the notify chain, whose dedup stage decides whether the
 * receiver needs to hear it (new alerts, resolves owed, `repeat_interval` for an unchanged
 * firing group). Resolved alerts are handed on once, then dropped; an empty group ends.
 */

export interface GroupTimers {
  groupWaitMs: number;
  groupIntervalMs: number;
}

export interface AggregationGroup {
  /** The newest version of each alert, by fingerprint. Plain data: it can be persisted as is. */
  alerts: Readonly<Record<string, Alert>>;
  createdAt: number;
  /** When the next flush is due. */
  flushAt: number;
  /** The first flush happened: group_wait is over. */
  flushed: boolean;
}

/**
 * `group_wait`: the first flush, once the group has waited.
 * `backlog`: the first flush at once, because an alert started `group_wait` or more before it
 *   reached the group (a replay, a restart): waiting again would only delay it.
 * `group_interval`: every later flush.
 */
export type FlushReason = 'group_wait' | 'backlog' | 'group_interval';

export interface GroupNotification {
  /** Every alert of the group, firing and resolved, oldest first. */
  alerts: Alert[];
  reason: FlushReason;
}

export interface GroupStep {
  /** undefined when the group is empty: forget it; a later alert starts a new one. */
  group: AggregationGroup | undefined;
  notify?: GroupNotification;
  /** When to step this group again if no alert arrives first; undefined for an ended group. */
  nextWakeAt: number | undefined;
}

const byAge = (a: Alert, b: Alert) => a.startsAt - b.startsAt || (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0);

/**
 * Takes the alerts that arrived for this group (newest version of each; pending ones are not
 * notifiable and are ignored) and the time, and says whether to flush now and when to wake.
 * Call it when alerts arrive and when `nextWakeAt` is reached; calling early is harmless.
 */
export function stepGroup(group: AggregationGroup | undefined, incoming: readonly Alert[], now: number, timers: GroupTimers): GroupStep {
  const arrivals = incoming.filter((a) => a.state !== 'pending');
  if (group === undefined && arrivals.length === 0) return { group: undefined, nextWakeAt: undefined };
  const alerts: Record<string, Alert> = { ...(group?.alerts ?? {}) };
  let { createdAt, flushAt, flushed } = group ?? { createdAt: now, flushAt: now + timers.groupWaitMs, flushed: false };
  for (const alert of arrivals) {
    alerts[alert.fingerprint] = alert;
    // Alertmanager flushes at once when an alert has already waited group_wait before arriving.
    if (!flushed && alert.startsAt + timers.groupWaitMs <= now) flushAt = Math.min(flushAt, now);
  }
  if (Object.keys(alerts).length === 0) return { group: undefined, nextWakeAt: undefined };
  if (now < flushAt) {
    return { group: { alerts, createdAt, flushAt, flushed }, nextWakeAt: flushAt };
  }

  const reason: FlushReason = flushed ? 'group_interval' : flushAt < createdAt + timers.groupWaitMs ? 'backlog' : 'group_wait';
  const notify: GroupNotification = { alerts: Object.values(alerts).sort(byAge), reason };
  for (const alert of notify.alerts) if (alert.state === 'resolved') delete alerts[alert.fingerprint];
  if (Object.keys(alerts).length === 0) return { group: undefined, notify, nextWakeAt: undefined };
  // The next flush counts from this one, as Alertmanager resets its timer when it fires.
  flushAt = now + timers.groupIntervalMs;
  flushed = true;
  return { group: { alerts, createdAt, flushAt, flushed }, notify, nextWakeAt: flushAt };
}
