import type { WorkflowEvent } from './event.ts';

/**
 * The operator's controls as rows: paging pauses (a kill switch per workflow or team) and the
 * audit trail of every control action. Shared by every instance through the store.
 */

/** What a pause covers: every alert whose `team` (or `workflow`) label has this value. */
export type PauseScope = 'team' | 'workflow';

export const PAUSE_SCOPES: readonly PauseScope[] = ['team', 'workflow'];

/**
 * The newest word on one scope. A resume is a row with `paused: false`, so the last row per
 * (scope, name) wins on every instance; `until` 0 means no expiry.
 */
export interface PagingPause {
  scope: PauseScope;
  name: string;
  paused: boolean;
  /** Wall-clock ms the pause ends by itself; 0: until resumed. */
  until: number;
  reason: string;
  /** The API token's name that set it. */
  actor: string;
  /** Wall-clock ms it was set (or resumed). */
  at: number;
}

/** One control action: who (the token's name), what, when, with which arguments, and how it ended. */
export interface AuditRecord {
  id: string;
  at: number;
  actor: string;
  action: string;
  /** The arguments as given, JSON. */
  args: string;
  outcome: 'started' | 'ok' | 'failed' | 'refused';
  /** A summary of the result (counts) or the error. */
  detail: string;
}

/** A dead letter as the store keeps it, for a replay. */
export interface StoredDeadLetter {
  topic: string;
  partition: number;
  offset: string;
  at: number;
  reason: string;
  key: string | null;
  headers: Record<string, string>;
  raw: Buffer | null;
}

/** What the controls read and write. The ClickHouse store implements it beside `Store`. */
export interface ControlStore {
  /** The newest row of every (scope, name) ever paused or resumed. */
  pagingPauses(): Promise<PagingPause[]>;
  writePagingPause(pause: PagingPause): Promise<void>;
  /** Adds an audit row; a row with the same id and a later `at` replaces it (started → ok). */
  writeAudit(record: AuditRecord): Promise<void>;
  /** Newest first, each id at its newest row. */
  audit(query: { since: number; limit: number }): Promise<AuditRecord[]>;
  /** Dead letters of one topic stored since a time, oldest offset first, each offset once. */
  deadLettersToReplay(query: { topic: string; since: number; limit: number }): Promise<StoredDeadLetter[]>;
  /** Every stored event (once each) of the correlation IDs with an event in [from, to), oldest first, at most `limit`. */
  eventsTouching(range: { from: number; to: number; limit: number }): Promise<WorkflowEvent[]>;
}
