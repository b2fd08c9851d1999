import { createHash } from 'node:crypto';
import type { Alert } from '../types.ts';
import { isOpenAnywhere, type NotificationLogState } from './notification-log.ts';

/**
 * A systemic failure is one page, not a storm: when many alerts of one detector and workflow
 * fire in one aggregation group (billing down: a hundred upgrades miss their deadline), a
 * PagerDuty receiver gets ONE incident for them — a synthetic "storm" alert with a stable
 * dedup key, the count, the first examples and a link — instead of one incident each. Pure:
 * what the receiver has open (the notification log) and the clock are inputs.
 *
 * - Below `threshold` firing alerts of a (detector, workflow) in the group, nothing changes:
 *   each alert is its own incident.
 * - At `threshold` or more, every firing alert of the bucket that the receiver does not already
 *   have open on its own is *covered* by the storm alert. Alerts paged on their own before the
 *   storm began stay open and resolve on their own (a responder may be working on them); the
 *   storm covers the rest. Its count is every firing alert of the bucket.
 * - While the storm is open at the receiver, new alerts of the bucket join it whatever the count
 *   (no flapping between storm and single pages); it is re-triggered (same dedup key: PagerDuty
 *   updates the incident) whenever an alert joins.
 * - It resolves once no covered alert of the bucket is firing any more — as far as this instance
 *   can tell: with several instances in a consumer group each sees only the alerts of its own
 *   partitions, and they share the incident (the same key), so one whose share cleared would
 *   resolve it while another's covered alerts still fire, and those are never paged again. So
 *   the resolve is sent only where `mayResolve` says so for the bucket: this instance sees every
 *   alert (it holds every partition), or the others' saved alert state has none of the bucket
 *   firing (the storm stage asks the store). Otherwise it is held, and handed back to its group
 *   to be asked again at the group's next flush (`held`).
 */

export interface StormOptions {
  /** Firing alerts of one detector and workflow in one group from which they are one incident. */
  threshold: number;
  /** How many examples the storm incident lists. */
  examples: number;
}

export const DEFAULT_STORM: StormOptions = { threshold: 10, examples: 5 };

/** The label that marks a storm alert: receivers re-trigger it to update the incident. */
export const STORM_LABEL = 'storm';

/** Stable across restarts and instances while the config is: receiver, group and bucket. */
export function stormKey(receiver: string, groupKey: string, detector: string, workflow: string): string {
  return `storm-${createHash('sha256').update(`${receiver}\u0000${groupKey}\u0000${detector}\u0000${workflow}`).digest('hex').slice(0, 32)}`;
}

export const isStormAlert = (alert: Alert) => alert.labels[STORM_LABEL] === 'true';

/**
 * For each of these alerts that a receiver was told of under a storm it still has open: that
 * [receiver, storm key]. One pass over the log's entries, whatever the number of alerts.
 */
export function openStormsOver(log: NotificationLogState, alerts: readonly Alert[]): Map<string, [string, string][]> {
  const wanted = new Map(alerts.map((a) => [a.fingerprint, a]));
  const out = new Map<string, [string, string][]>();
  for (const [entryKey, entry] of Object.entries(log.entries)) {
    const [receiver = '', groupKey = ''] = entryKey.split('\u0000');
    const open = log.open[receiver];
    if (!open || Object.keys(open).length === 0) continue;
    for (const fingerprint of entry.firing) {
      const alert = wanted.get(fingerprint);
      if (!alert) continue;
      const [detector, workflow] = stormBucket(alert).split('\u0000') as [string, string];
      const key = stormKey(receiver, groupKey, detector, workflow);
      if (!Object.hasOwn(open, key)) continue;
      const found = out.get(fingerprint) ?? [];
      found.push([receiver, key]);
      out.set(fingerprint, found);
    }
  }
  return out;
}

/**
 * Which of these restored alerts a receiver is owed a resolve for: open there on its own, or
 * told as covered by a storm still open there (its group's entry lists it, and the storm of its
 * bucket in that group is open). A restart hands such an alert back to its group once it has
 * resolved, so that the storm's resolve, which no alert of its own owes, is still sent. The log
 * is read once for all of them.
 */
export function resolvesOwed(log: NotificationLogState, alerts: readonly Alert[]): (alert: Alert) => boolean {
  const underStorm = openStormsOver(log, alerts.filter((a) => a.state === 'resolved'));
  return (alert) => isOpenAnywhere(log, alert.fingerprint) || underStorm.has(alert.fingerprint);
}

export interface StormInput {
  receiver: string;
  groupKey: string;
  /** The group's alerts after muting: firing, and resolved ones that may be owed. */
  alerts: readonly Alert[];
  options: StormOptions;
  /** Whether the receiver has this alert (or storm) open: triggered there and not resolved. */
  isOpen: (fingerprint: string) => boolean;
  /** The alerts this receiver was last told of in this group (the notification log's entry). */
  told: ReadonlySet<string>;
  /** Where the list of the bucket's alerts is read, e.g. http://seamwatch:9470/api/v1/alerts */
  alertsUrl: string;
  now: number;
  /**
   * Whether a storm of this bucket (`stormBucket`) that this instance finds clear is over: it sees
   * every alert (the only one in its group), or no other instance has alerts of the bucket firing.
   */
  mayResolve: (bucket: string) => boolean;
}

/** A storm found clear here whose resolve was held: `mayResolve` said no for its bucket. */
export interface HeldStorm {
  key: string;
  bucket: string;
  /** The resolve that was not sent: given back to the group, it brings the storm up again at its next flush. */
  resolve: Alert;
}

export interface StormOutput {
  /** What goes on down the chain: storm alerts in place of the alerts they cover. */
  alerts: Alert[];
  /** By storm fingerprint: the alerts it covers now (recorded as told, never opened on their own). */
  covered: Record<string, string[]>;
  /** Storms found clear here whose resolve was held (`mayResolve` false for their bucket). */
  held: HeldStorm[];
}

/** The (detector, workflow) a storm gathers alerts by, as one string. */
export const stormBucket = (alert: Alert) => `${alert.labels['detector'] ?? alert.labels['alertname'] ?? ''}\u0000${alert.labels['workflow'] ?? ''}`;
const SEVERITY_ORDER = ['critical', 'error', 'warning', 'info'];

export function applyStorm(input: StormInput): StormOutput {
  const { options, isOpen } = input;
  const buckets = new Map<string, Alert[]>();
  for (const alert of input.alerts) {
    if (isStormAlert(alert)) continue; // a storm resolve given back after a failed delivery: recomputed here
    const bucket = buckets.get(stormBucket(alert)) ?? [];
    bucket.push(alert);
    buckets.set(stormBucket(alert), bucket);
  }
  // Storm resolves handed back to the group (their delivery failed) still name their bucket.
  for (const alert of input.alerts) if (isStormAlert(alert) && !buckets.has(stormBucket(alert))) buckets.set(stormBucket(alert), []);

  const out: Alert[] = [];
  const covered: Record<string, string[]> = {};
  const held: HeldStorm[] = [];
  for (const [bucket, alerts] of buckets) {
    const [detector = '', workflow = ''] = bucket.split('\u0000');
    const key = stormKey(input.receiver, input.groupKey, detector, workflow);
    const firing = alerts.filter((a) => a.state === 'firing');
    const ownIncidents = firing.filter((a) => isOpen(a.fingerprint));
    const rest = firing.filter((a) => !isOpen(a.fingerprint));
    const open = isOpen(key);
    const storming = rest.length > 0 && (open || firing.length >= options.threshold);
    if (!storming) {
      out.push(...alerts);
      if (open && rest.length === 0) {
        const resolve = stormAlert(key, detector, workflow, alerts, [], ownIncidents.length, input, 'resolved');
        if (input.mayResolve(bucket)) out.push(resolve);
        else held.push({ key, bucket, resolve });
      }
      continue;
    }
    out.push(...ownIncidents, ...alerts.filter((a) => a.state === 'resolved'));
    // Triggered again only when an alert joined it (or it is not open yet), not at every send of the group.
    if (!open || rest.some((a) => !input.told.has(a.fingerprint))) out.push(stormAlert(key, detector, workflow, rest, firing, ownIncidents.length, input, 'firing'));
    covered[key] = rest.map((a) => a.fingerprint).sort();
  }
  return { alerts: out, covered, held };
}

function stormAlert(key: string, detector: string, workflow: string, covered: readonly Alert[], firing: readonly Alert[], ownIncidents: number, input: StormInput, state: 'firing' | 'resolved'): Alert {
  const oldestFirst = [...covered].sort((a, b) => a.startsAt - b.startsAt || (a.fingerprint < b.fingerprint ? -1 : 1));
  const sample = oldestFirst[0];
  const severities = firing.map((a) => a.labels['severity'] ?? 'error');
  const severity = SEVERITY_ORDER.find((s) => severities.includes(s)) ?? sample?.labels['severity'] ?? 'error';
  const labels: Record<string, string> = {
    alertname: detector,
    detector,
    ...(workflow ? { workflow } : {}),
    ...(sample?.labels['team'] ? { team: sample.labels['team'] } : {}),
    severity,
    [STORM_LABEL]: 'true',
  };
  const query = new URLSearchParams({ state: 'firing', detector, ...(workflow ? { workflow } : {}) });
  const link = `${input.alertsUrl}?${query.toString()}`;
  const examples = oldestFirst.slice(0, input.options.examples);
  const annotations: Record<string, string> =
    state === 'resolved'
      ? { summary: `${detector}${workflow ? ` on ${workflow}` : ''}: over` }
      : {
          summary: `${firing.length} × ${detector}${workflow ? ` on ${workflow}` : ''} at once: ${sample?.annotations['summary'] ?? ''}`.trim(),
          count: String(firing.length),
          paged_on_their_own: String(ownIncidents),
          examples: examples.map((a) => a.annotations['correlation_id'] ?? a.annotations['business_key'] ?? a.fingerprint).join(', '),
          first_example: sample?.annotations['summary'] ?? '',
          first_trace_url: sample?.generatorUrl ?? '',
          alerts_url: link,
        };
  return {
    fingerprint: key,
    labels,
    annotations,
    state,
    startsAt: oldestFirst[0]?.startsAt ?? input.now,
    endsAt: state === 'resolved' ? input.now : 0,
    generatorUrl: link,
  };
}
