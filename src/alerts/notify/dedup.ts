/**
 * Whether a receiver needs to hear about a group now: Alertmanager's DedupStage.needsUpdate,
 * with one addition for the rule that a resolve is always sent for every alert that was
 * ever triggered at the receiver. Pure: the notification log entry and the clock are inputs.
 */

/** What a receiver was last told about one group. Fingerprints are the PagerDuty dedup keys. */
export interface NotificationLogEntry {
  firing: readonly string[];
  resolved: readonly string[];
  sentAt: number;
}

/**
 * `first_notification`: firing alerts, and the receiver has none of this group as firing.
 * `new_alerts`: a firing alert the receiver was not told about.
 * `resolved` / `all_resolved`: alerts the receiver was paged for have resolved (with firing
 *   alerts left / none left). Sent whether or not a silence or inhibition began since.
 * `repeat_interval`: nothing changed, and `repeat_interval` has passed since the last send.
 */
export type SendReason = 'first_notification' | 'new_alerts' | 'resolved' | 'all_resolved' | 'repeat_interval';

/** `nothing_firing`: nothing to trigger and no resolve owed. `unchanged`: told already, not yet time to repeat. */
export type HoldReason = 'nothing_firing' | 'unchanged';

export type DedupDecision = { send: true; reason: SendReason } | { send: false; reason: HoldReason };

export interface DedupInput {
  /** The log entry for (receiver, group); undefined if the receiver never heard of the group. */
  entry: NotificationLogEntry | undefined;
  /** The group's firing alerts that survived inhibition, silences and maintenance. */
  firing: ReadonlySet<string>;
  /** The group's resolved alerts that are open at the receiver: triggered there, never resolved there. */
  owed: ReadonlySet<string>;
  repeatIntervalMs: number;
  now: number;
}

/**
 * Differences from Alertmanager, on purpose:
 * - resolves are decided per alert: a resolve is owed exactly when the alert was triggered at
 *   this receiver and not resolved there since, wherever and whenever that happened (so a
 *   silence, an inhibition or a change of group in between cannot lose it); a resolved alert the
 *   receiver never heard of is not sent at all.
 * - the repeat is due when `repeat_interval` has fully passed (Alertmanager wants strictly more,
 *   which in practice repeats one `group_interval` late).
 */
export function decideDedup(input: DedupInput): DedupDecision {
  const told = new Set(input.entry?.firing ?? []);
  for (const fingerprint of input.firing) {
    if (!told.has(fingerprint)) return { send: true, reason: told.size > 0 ? 'new_alerts' : 'first_notification' };
  }
  if (input.owed.size > 0) return { send: true, reason: input.firing.size > 0 ? 'resolved' : 'all_resolved' };
  if (input.firing.size === 0) return { send: false, reason: 'nothing_firing' };
  if (input.entry && input.now - input.entry.sentAt >= input.repeatIntervalMs) return { send: true, reason: 'repeat_interval' };
  return { send: false, reason: 'unchanged' };
}
