import type { EventRecord, RedeliveryRecord, RunRecord, RunState, SpanRecord } from '../../src/domain/records.ts';
import type { WorkflowDefinition } from '../../src/domain/workflow.ts';

/** The JSON API as the web view reads it. Only types are shared with the server; all data comes over HTTP. */

export type { EventRecord, RedeliveryRecord, RunRecord, RunState, SpanRecord, WorkflowDefinition };

export interface BurnRateView {
  tier: string;
  severity: string;
  longWindow: string;
  shortWindow: string;
  factor: number;
  longBurnRate: number;
  shortBurnRate: number;
  runsInLongWindow: number;
  firing: boolean;
}

export interface SloView {
  name: string;
  workflow: string;
  owner: string;
  description: string | null;
  objective: number;
  window: string;
  indicator: string;
  at: string;
  windowStart: string;
  sli: number | null;
  runs: { total: number; bad: number };
  errorBudget: { allowedBad: number; remainingRatio: number; remainingRuns: number; consumedRatio: number; burnRate: number };
  burnRates: BurnRateView[];
}

export type SloListItem = SloView | { name: string; workflow: string; owner: string; status: string };

export interface SloSeriesPoint {
  at: string;
  good: number;
  total: number;
  sli: number | null;
  budgetRemainingRatio: number;
}

export interface SloDetail extends SloView {
  series: { bucketMinutes: number; points: SloSeriesPoint[] };
}

export interface AlertView {
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'resolved';
  startsAt: string;
  endsAt: string | null;
  generatorUrl: string;
  silencedBy: string[];
  receivers: string[];
  /** The paging pauses holding this alert back (`team=…`, `workflow=…`); absent without the controls. */
  pausedBy?: string[];
}

/** A paging pause (the operator's kill switch) as /api/v1/alerts lists it. */
export interface PauseView {
  scope: 'team' | 'workflow';
  name: string;
  active: boolean;
  paused: boolean;
  until: string | null;
  reason: string;
  by: string;
  at: string;
}

export interface MatcherView {
  name: string;
  type: string;
  value: string;
}

export interface SilenceView {
  id: string;
  matchers: (MatcherView | string)[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  state: 'active' | 'pending' | 'expired';
  updatedAt?: string;
  /** In answers to a change: whether the store took it (false: it holds on this instance only, for now). */
  stored?: boolean;
}

export interface RunSloVerdict {
  slo: string;
  runId: string;
  due: number;
  good: boolean;
}

export interface TraceView {
  correlationId: string;
  runs: RunRecord[];
  spans: SpanRecord[];
  events: EventRecord[];
  redeliveries: RedeliveryRecord[];
  sloVerdicts: RunSloVerdict[];
}

export interface RunsPage {
  from: string;
  to: string;
  total: number;
  runs: RunRecord[];
}

export interface DeadLetterView {
  at: string;
  reason: string;
  detail: string;
  origin: { topic: string; partition: number; offset: string };
  key: string | null;
  headers: Record<string, string>;
  rawBytes: number | null;
  rawPreview: string;
  rawTruncated: boolean;
}

export interface DeadLettersPage {
  from: string;
  to: string;
  total: number;
  deadLetters: DeadLetterView[];
}

const TOKEN_KEY = 'seamwatch.apiToken';

/** The API token, kept for this browser tab only. */
export const token = {
  get: (): string => sessionStorage.getItem(TOKEN_KEY) ?? '',
  set: (value: string): void => (value ? sessionStorage.setItem(TOKEN_KEY, value) : sessionStorage.removeItem(TOKEN_KEY)),
};

export class ApiError extends Error {
  readonly status: number;
  readonly problems: string[];
  constructor(status: number, message: string, problems: string[] = []) {
    super(message);
    this.status = status;
    this.problems = problems;
  }
}

/** One API call: JSON in and out, the token when there is one; a non-2xx answer throws ApiError with the server's words. */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const t = token.get();
  if (t) headers['authorization'] = `Bearer ${t}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method: init.method ?? 'GET', headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
  const body = (await res.json().catch(() => ({}))) as { error?: string; problems?: string[] };
  if (!res.ok) throw new ApiError(res.status, body.error ?? `${res.status} ${res.statusText}`, body.problems ?? []);
  return body as T;
}
