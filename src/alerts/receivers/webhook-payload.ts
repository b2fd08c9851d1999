import type { Alert } from '../types.ts';
import type { Notification } from '../notify/receiver.ts';

/**
 * The body Alertmanager's webhook receiver posts (version 4), so the receivers people already
 * run for Alertmanager can take seamwatch's notifications unchanged.
 * https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
 */
export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  /** Alertmanager's zero time while the alert fires. */
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface WebhookPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
}

/** Go's zero time, as Alertmanager writes an unset endsAt. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

const iso = (ms: number) => (ms > 0 && Number.isFinite(ms) ? new Date(ms).toISOString() : ZERO_TIME);

/** The pairs every alert has with the same value. */
function common(maps: readonly Record<string, string>[]): Record<string, string> {
  if (maps.length === 0) return {};
  const [first, ...rest] = maps;
  return Object.fromEntries(Object.entries(first!).filter(([k, v]) => rest.every((m) => m[k] === v)));
}

export function toWebhookPayload(notification: Notification, externalUrl: string): WebhookPayload {
  const alerts = [...notification.firing, ...notification.resolved];
  const toWebhookAlert = (alert: Alert): WebhookAlert => ({
    status: alert.state === 'resolved' ? 'resolved' : 'firing',
    labels: alert.labels,
    annotations: alert.annotations,
    startsAt: iso(alert.startsAt),
    endsAt: alert.state === 'resolved' ? iso(alert.endsAt) : ZERO_TIME,
    generatorURL: alert.generatorUrl,
    fingerprint: alert.fingerprint,
  });
  return {
    version: '4',
    groupKey: notification.groupKey,
    truncatedAlerts: 0,
    status: notification.firing.length > 0 ? 'firing' : 'resolved',
    receiver: notification.receiver,
    groupLabels: { ...notification.groupLabels },
    commonLabels: common(alerts.map((a) => a.labels)),
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    externalURL: externalUrl,
    alerts: alerts.map(toWebhookAlert),
  };
}
