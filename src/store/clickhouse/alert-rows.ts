import type { AlertChangeRecord, NotificationRecord, SloDefinitionRecord } from '../../domain/alert-records.ts';

/** JSONEachRow lines for the alert history tables (migration 5). */

export function alertChangeLine(c: AlertChangeRecord): string {
  return `${JSON.stringify({
    fingerprint: c.fingerprint,
    kind: c.kind,
    detector: c.detector,
    detector_kind: c.detectorKind,
    team: c.team,
    severity: c.severity,
    workflow: c.workflow,
    summary: c.summary,
    correlation_id: c.correlationId,
    starts_at_ms: Math.max(0, Math.floor(c.startsAt)),
    ends_at_ms: Math.max(0, Math.floor(c.endsAt)),
    recorded_at_ms: Math.max(0, Math.floor(c.recordedAt)),
    version: Math.max(0, Math.floor(c.recordedAt)),
  })}\n`;
}

export function notificationLine(n: NotificationRecord): string {
  return `${JSON.stringify({ receiver: n.receiver, group_key: n.groupKey, fingerprint: n.fingerprint, state: n.state, sent_at_ms: Math.max(0, Math.floor(n.sentAt)) })}\n`;
}

export function sloDefinitionLine(d: SloDefinitionRecord, version: number): string {
  return `${JSON.stringify({
    slo: d.slo,
    workflow: d.workflow,
    owner: d.owner,
    objective: d.objective,
    window_ms: Math.floor(d.windowMs),
    tier_names: d.tierNames,
    tier_factors: d.tierFactors,
    tier_long_ms: d.tierLongMs.map(Math.floor),
    tier_short_ms: d.tierShortMs.map(Math.floor),
    version,
  })}\n`;
}
