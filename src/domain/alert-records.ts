/**
 * Alert history as rows a dashboard can count: one per alert change, one per alert in a
 * delivered notification, and the SLO definitions the SLO dashboard draws objectives from.
 * The alert state documents stay the source of truth for restarts; these are for reading.
 */

export interface AlertChangeRecord {
  fingerprint: string;
  kind: 'pending' | 'firing' | 'resolved' | 'dropped';
  detector: string;
  /** The detector's kind from config (duplicateEffects, stuck, …), '' when not a detector (an SLO burn). */
  detectorKind: string;
  team: string;
  severity: string;
  workflow: string;
  summary: string;
  correlationId: string;
  /** Event time the alert started (ms). */
  startsAt: number;
  /** Event time it ended, 0 while not resolved (ms). */
  endsAt: number;
  /** Wall clock when seamwatch saw the change (ms). */
  recordedAt: number;
}

export interface NotificationRecord {
  receiver: string;
  groupKey: string;
  fingerprint: string;
  /** What the receiver was told about this alert. */
  state: 'firing' | 'resolved';
  /** Wall clock of the accepted delivery (ms). */
  sentAt: number;
}

export interface SloDefinitionRecord {
  slo: string;
  workflow: string;
  owner: string;
  /** 0.99 for 99 %. */
  objective: number;
  /** Rolling window length, or the calendar period's nominal length (ms). */
  windowMs: number;
  tierNames: string[];
  tierFactors: number[];
  tierLongMs: number[];
  tierShortMs: number[];
}

export interface AlertRecords {
  changes: readonly AlertChangeRecord[];
  notifications: readonly NotificationRecord[];
}
