import { SLO_BURN } from './engine.ts';
import { GLOBAL_PARTITION, SLO_PARTITION, type AlertEntry } from './lifecycle/alert-book.ts';
import { EMPTY_NOTIFICATION_LOG, type NotificationLogState } from './notify/notification-log.ts';
import { openStormsOver, stormBucket } from './notify/storm.ts';
import type { AlertState } from './persistence.ts';

/**
 * How the alert state is cut into store documents so that several instances in one consumer
 * group never overwrite each other: one document per owned Kafka partition (its alerts, and
 * what receivers were told about them), one for the SLO burn alerts, owned by the group's SLO
 * lead, and one for the rest (alerts of no one partition, such as source silence). A partition's
 * document moves with the partition, the SLO document with the lead. Each silence is a document
 * of its own (silenceKey), written by whichever instance changed it.
 */
export const partitionKey = (base: string, partition: number) => `${base}:p${partition}`;
export const globalKey = (base: string) => `${base}:global`;
export const sloKey = (base: string) => `${base}:slo`;
/** Where the silences are: a document each, so that no instance's save can leave another's out. */
export const silencePrefix = (base: string) => `${base}:silence:`;
export const silenceKey = (base: string, id: string) => `${silencePrefix(base)}${id}`;

/**
 * What a document of the group `base` holds, by its key: alert state (and of which owner: a
 * partition's number, GLOBAL_PARTITION for the shared document and the one of a version before
 * partitions, SLO_PARTITION for the lead's), a silence, or something else of the group (the SLO
 * holder) or of another group whose name starts alike (undefined).
 */
export function documentOf(base: string, key: string): { kind: 'alerts'; owner: number } | { kind: 'silence' } | undefined {
  if (key === base || key === globalKey(base)) return { kind: 'alerts', owner: GLOBAL_PARTITION };
  if (key === sloKey(base)) return { kind: 'alerts', owner: SLO_PARTITION };
  if (key.startsWith(silencePrefix(base))) return { kind: 'silence' };
  const partition = /^p(\d+)$/.exec(key.startsWith(`${base}:`) ? key.slice(base.length + 1) : '');
  return partition ? { kind: 'alerts', owner: Number(partition[1]) } : undefined;
}

/** The document an owner's alerts are saved in (an owner is a partition, the SLO lead, or no one). */
export function documentKey(base: string, partition: number): string {
  if (partition === GLOBAL_PARTITION) return globalKey(base);
  if (partition === SLO_PARTITION) return sloKey(base);
  return partitionKey(base, partition);
}

/** The documents to save now, by key. */
export function splitAlertState(
  base: string,
  entries: readonly AlertEntry[],
  log: NotificationLogState,
  owned: ReadonlySet<number>,
): Map<string, AlertState> {
  const partitionOf = new Map<string, number>();
  for (const entry of entries) {
    const partition = entry.partition ?? GLOBAL_PARTITION;
    partitionOf.set(entry.alert.fingerprint, owned.has(partition) ? partition : GLOBAL_PARTITION);
  }
  const docs = new Map<number, { alerts: AlertEntry[]; log: { entries: Record<string, NotificationLogState['entries'][string]>; open: Record<string, Record<string, number>> } }>();
  const doc = (partition: number) => {
    let found = docs.get(partition);
    if (!found) docs.set(partition, (found = { alerts: [], log: { entries: {}, open: {} } }));
    return found;
  };
  doc(GLOBAL_PARTITION);
  for (const partition of owned) doc(partition);
  for (const entry of entries) doc(partitionOf.get(entry.alert.fingerprint)!).alerts.push(entry);
  // A group's entry goes with every partition one of its alerts belongs to.
  for (const [key, entry] of Object.entries(log.entries)) {
    const partitions = new Set([...entry.firing, ...entry.resolved].map((fingerprint) => partitionOf.get(fingerprint) ?? GLOBAL_PARTITION));
    if (partitions.size === 0) partitions.add(GLOBAL_PARTITION);
    for (const partition of partitions) doc(partition).log.entries[key] = entry;
  }
  for (const [receiver, open] of Object.entries(log.open)) {
    for (const [fingerprint, at] of Object.entries(open)) {
      const target = doc(partitionOf.get(fingerprint) ?? GLOBAL_PARTITION).log.open;
      (target[receiver] ??= {})[fingerprint] = at;
    }
  }
  // An open storm also goes with the partitions of the alerts it covers: whoever takes one over
  // knows the storm is open, and joins or resolves it, instead of leaving its alerts told.
  const inPartitions = entries.filter((e) => partitionOf.get(e.alert.fingerprint) !== GLOBAL_PARTITION);
  for (const [fingerprint, storms] of openStormsOver(log, inPartitions.map((e) => e.alert))) {
    const target = doc(partitionOf.get(fingerprint)!).log.open;
    for (const [receiver, key] of storms) (target[receiver] ??= {})[key] = log.open[receiver]![key]!;
  }
  const out = new Map<string, AlertState>();
  for (const [partition, { alerts, log: part }] of docs) {
    out.set(documentKey(base, partition), { alerts, notificationLog: part });
  }
  return out;
}

/** Two notification logs as one: every open alert of both, and the newer entry of each group. */
export function mergeNotificationLogs(a: NotificationLogState, b: NotificationLogState | undefined = EMPTY_NOTIFICATION_LOG): NotificationLogState {
  const entries = { ...a.entries };
  for (const [key, entry] of Object.entries(b.entries)) {
    const current = entries[key];
    if (!current || current.sentAt < entry.sentAt) entries[key] = entry;
  }
  const open: Record<string, Record<string, number>> = {};
  for (const [receiver, alerts] of [...Object.entries(a.open), ...Object.entries(b.open)]) open[receiver] = { ...(open[receiver] ?? {}), ...alerts };
  return { entries, open };
}

/** The log without these alerts: another instance owns them now. */
export function withoutAlerts(log: NotificationLogState, fingerprints: ReadonlySet<string>): NotificationLogState {
  const open = Object.fromEntries(Object.entries(log.open).map(([receiver, alerts]) => [receiver, Object.fromEntries(Object.entries(alerts).filter(([fingerprint]) => !fingerprints.has(fingerprint)))]));
  return { entries: log.entries, open };
}

/**
 * Of these storm buckets, the ones no document here has an alert of firing for `receiver`: an
 * alert the receiver has open on its own is not under a storm and does not count, as storm.ts
 * counts at home; a silenced one does (the answer errs towards keeping an incident open).
 */
export function stormsClearIn(documents: readonly AlertState[], receiver: string, buckets: readonly string[]): Set<string> {
  const firing = new Set<string>();
  for (const state of documents) {
    const open = state.notificationLog?.open[receiver] ?? {};
    for (const { alert } of state.alerts) if (alert.state === 'firing' && !Object.hasOwn(open, alert.fingerprint)) firing.add(stormBucket(alert));
  }
  return new Set(buckets.filter((bucket) => !firing.has(bucket)));
}

/**
 * A shared document saved before SLO burn alerts had their own (every instance wrote them into
 * it): its SLO burn alerts, with what receivers were told of them, as the SLO document the lead
 * takes over; the rest stays shared. A shared document without them comes back as it is.
 */
export function sloOutOfShared(state: AlertState): { shared: AlertState; slo: AlertState | undefined } {
  const slo = state.alerts.filter((entry) => entry.alert.labels['detector'] === SLO_BURN);
  if (slo.length === 0) return { shared: state, slo: undefined };
  const fingerprints = new Set(slo.map((entry) => entry.alert.fingerprint));
  const log = state.notificationLog ?? EMPTY_NOTIFICATION_LOG;
  const told = (entry: NotificationLogState['entries'][string]) => [...entry.firing, ...entry.resolved].some((f) => fingerprints.has(f));
  const only = (keep: (fingerprint: string) => boolean) =>
    Object.fromEntries(Object.entries(log.open).map(([receiver, alerts]) => [receiver, Object.fromEntries(Object.entries(alerts).filter(([fingerprint]) => keep(fingerprint)))]));
  return {
    shared: {
      ...state,
      alerts: state.alerts.filter((entry) => !fingerprints.has(entry.alert.fingerprint)),
      notificationLog: { entries: Object.fromEntries(Object.entries(log.entries).filter(([, e]) => !told(e))), open: only((f) => !fingerprints.has(f)) },
    },
    slo: {
      alerts: slo.map((entry) => ({ ...entry, partition: SLO_PARTITION })),
      notificationLog: { entries: Object.fromEntries(Object.entries(log.entries).filter(([, e]) => told(e))), open: only((f) => fingerprints.has(f)) },
    },
  };
}
