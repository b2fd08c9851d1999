/** The PagerDuty Events API v2 wire format, as seamwatch sends it. */
import type { Severity } from '../types.ts';

export type PagerDutyAction = 'trigger' | 'resolve';

export interface PagerDutyLink {
  href: string;
  text?: string;
}

export interface PagerDutyImage {
  src: string;
  href?: string;
  alt?: string;
}

export interface PagerDutyPayload {
  /** At most 1024 characters. */
  summary: string;
  source: string;
  severity: Severity;
  /** ISO 8601. */
  timestamp?: string;
  component?: string;
  group?: string;
  class?: string;
  custom_details?: Record<string, unknown>;
}

export interface PagerDutyTriggerEvent {
  routing_key: string;
  event_action: 'trigger';
  /** At most 255 characters. */
  dedup_key?: string;
  payload: PagerDutyPayload;
  links?: PagerDutyLink[];
  images?: PagerDutyImage[];
  client?: string;
  client_url?: string;
}

/** A resolve carries nothing but the key it closes: PagerDuty ignores anything else. */
export interface PagerDutyResolveEvent {
  routing_key: string;
  event_action: 'resolve';
  dedup_key: string;
}

export type PagerDutyEvent = PagerDutyTriggerEvent | PagerDutyResolveEvent;
