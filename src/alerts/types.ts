/**
 * Business alerts: shared types (Alertmanager's model). A detector or the SLO engine raises a
 * signal about a problem; the alert lifecycle turns signals into alerts with a stable
 * fingerprint; routing groups alerts and hands notifications to receivers.
 */

export type Severity = 'critical' | 'error' | 'warning' | 'info';

/** What a detector says about one problem at one moment (event time). */
export interface DetectorSignal {
  kind: 'firing' | 'resolved';
  /** detector name, e.g. "duplicate-invoice". */
  detector: string;
  /** Stable identity of the problem within the detector: e.g. the business key or run id. */
  key: string;
  workflow?: string;
  owner: string;
  severity: Severity;
  /** A human sentence: what the customer impact is. */
  summary: string;
  correlationId?: string;
  businessKey?: string;
  /** Event time the problem began / ended. */
  at: number;
  details?: Record<string, string | number | boolean>;
}

export type AlertState = 'pending' | 'firing' | 'resolved';

export interface Alert {
  /** Stable: hash of detector + workflow + key. Also the PagerDuty dedup_key. */
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: AlertState;
  startsAt: number;
  /** 0 while not resolved. */
  endsAt: number;
  /** Link to the trace in the web view. */
  generatorUrl: string;
}
