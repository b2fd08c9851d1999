/**
 * The PagerDuty Events API v2 alert event, and the mapping from a seamwatch alert to it.
 * https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
 */
import type { Alert, Severity } from '../types.ts';
import { eventProblems } from './validate.ts';

export type { PagerDutyAction, PagerDutyEvent, PagerDutyImage, PagerDutyLink, PagerDutyPayload, PagerDutyResolveEvent, PagerDutyTriggerEvent } from './wire.ts';
import type { PagerDutyAction, PagerDutyEvent, PagerDutyPayload, PagerDutyTriggerEvent } from './wire.ts';

/** Either an event PagerDuty will accept, or every reason it would answer 400. */
export type EventMapping = { kind: 'valid'; event: PagerDutyEvent } | { kind: 'invalid'; errors: string[] };

export interface EventOptions {
  /** The team's integration key (a secret). */
  routingKey: string;
  /** `payload.source`: the system that saw the problem, e.g. "seamwatch-prod". */
  source: string;
  /** `client_url`: seamwatch's web view, shown by PagerDuty as the event's origin. */
  clientUrl?: string;
}

export const SUMMARY_MAX_LENGTH = 1024;
export const CLIENT_NAME = 'seamwatch';

/** Where the alert lifecycle puts what the mapping reads. */
export const LABEL = { severity: 'severity', team: 'team', owner: 'owner', workflow: 'workflow', detector: 'detector' } as const;
export const ANNOTATION = { summary: 'summary', correlationId: 'correlationId', businessKey: 'businessKey' } as const;

const MAPPED_LABELS = new Set<string>(Object.values(LABEL));
const MAPPED_ANNOTATIONS = new Set<string>(Object.values(ANNOTATION));

export function toPagerDutyEvent(alert: Alert, action: PagerDutyAction, options: EventOptions): EventMapping {
  const event: PagerDutyEvent =
    action === 'resolve'
      ? { routing_key: options.routingKey, event_action: 'resolve', dedup_key: alert.fingerprint }
      : triggerEvent(alert, options);
  const errors = eventProblems(event);
  return errors.length === 0 ? { kind: 'valid', event } : { kind: 'invalid', errors };
}

function triggerEvent(alert: Alert, options: EventOptions): PagerDutyTriggerEvent {
  const { labels, annotations } = alert;
  const payload: PagerDutyPayload = {
    summary: truncateSummary((annotations[ANNOTATION.summary] ?? '').trim()),
    source: options.source,
    // Not narrowed here: an unknown severity is reported by the validation, not guessed.
    severity: (labels[LABEL.severity] ?? '').trim().toLowerCase() as Severity,
  };
  if (alert.startsAt > 0 && Number.isFinite(alert.startsAt)) payload.timestamp = new Date(alert.startsAt).toISOString();
  const component = nonEmpty(labels[LABEL.workflow]);
  if (component) payload.component = component;
  const group = nonEmpty(labels[LABEL.team]) ?? nonEmpty(labels[LABEL.owner]);
  if (group) payload.group = group;
  const detector = nonEmpty(labels[LABEL.detector]);
  if (detector) payload.class = detector;
  payload.custom_details = customDetails(alert);

  const event: PagerDutyTriggerEvent = {
    routing_key: options.routingKey,
    event_action: 'trigger',
    dedup_key: alert.fingerprint,
    payload,
    client: CLIENT_NAME,
  };
  if (options.clientUrl) event.client_url = options.clientUrl;
  if (alert.generatorUrl) event.links = [{ href: alert.generatorUrl, text: 'Workflow trace in seamwatch' }];
  return event;
}

/** What a responder needs to start: who, which run, which business object, and the counts. */
function customDetails(alert: Alert): Record<string, unknown> {
  const { labels, annotations } = alert;
  const details: Record<string, unknown> = {};
  const put = (key: string, value: unknown) => {
    if (value !== undefined && value !== '') details[key] = value;
  };
  put('correlation_id', annotations[ANNOTATION.correlationId]);
  put('business_key', annotations[ANNOTATION.businessKey]);
  put('workflow', labels[LABEL.workflow]);
  put('team', labels[LABEL.team] ?? labels[LABEL.owner]);
  put('detector', labels[LABEL.detector]);
  if (alert.startsAt > 0 && Number.isFinite(alert.startsAt)) put('started_at', new Date(alert.startsAt).toISOString());
  put('trace_url', alert.generatorUrl);
  for (const [key, value] of Object.entries(annotations)) {
    if (!MAPPED_ANNOTATIONS.has(key) && !(key in details)) put(key, asCount(value));
  }
  const otherLabels = Object.entries(labels).filter(([key]) => !MAPPED_LABELS.has(key));
  if (otherLabels.length > 0) details.labels = Object.fromEntries(otherLabels);
  return details;
}

/** Annotations are strings; counts read better (and sort) as numbers. "007" stays a string. */
function asCount(value: string): string | number {
  if (!/^-?(0|[1-9]\d{0,14})(\.\d+)?$/.test(value)) return value;
  return Number(value);
}

/**
 * At most `max` UTF-16 code units (so at most `max` characters however they are counted), with an
 * ellipsis when cut; never splits a surrogate pair, which would leave invalid text.
 */
export function truncateSummary(text: string, max = SUMMARY_MAX_LENGTH): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
