import type { Express, Request, Response } from 'express';
import type { DeadLetter } from '../domain/dead-letter.ts';
import { RUN_STATES, type RunState } from '../domain/records.ts';
import type { Store } from '../domain/store.ts';
import type { WorkflowDefinition } from '../domain/workflow.ts';

/** Bytes of a dead letter's raw message shown as text: enough to recognise it, small enough to list 100. */
export const RAW_PREVIEW_BYTES = 2_048;
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1_000;
const DAY_MS = 86_400_000;
/** The end of a default time range: a little past the wall clock, as event time may run ahead of it. */
const AHEAD_MS = 3_600_000;

export interface BrowseRoutesOptions {
  store: Store;
  workflows: readonly WorkflowDefinition[];
  /** SLO names, for the verdicts a trace shows. */
  slos: () => readonly string[];
  now: () => number;
}

/**
 * What the web view reads besides SLOs and alerts: a trace with the SLO verdicts of its runs,
 * runs and dead letters by filter, and the workflow definitions (step order, deadline).
 */
export function addBrowseRoutes(app: Express, options: BrowseRoutesOptions): void {
  const { store, now } = options;

  app.get('/api/v1/traces/:correlationId', async (req: Request<{ correlationId: string }>, res) => {
    // A person following an alert or PagerDuty link made before the web view lands on its page.
    if (req.accepts(['json', 'html']) === 'html') {
      res.redirect(302, `/trace/${encodeURIComponent(req.params.correlationId)}`);
      return;
    }
    const trace = await store.trace(req.params.correlationId);
    if (trace.runs.length === 0 && trace.events.length === 0) {
      res.status(404).json({ error: `no events for correlation ID "${req.params.correlationId}"` });
      return;
    }
    const sloVerdicts = await store.runSloVerdicts(trace.runs.map((r) => r.runId), options.slos());
    res.json({ ...trace, sloVerdicts });
  });

  app.get('/api/v1/workflows', (_req, res) => {
    res.json({ workflows: options.workflows });
  });

  app.get('/api/v1/runs', async (req, res) => {
    const problems: string[] = [];
    const range = readRange(req, now(), problems);
    const limit = readLimit(req, problems);
    const workflow = readText(req, 'workflow', problems);
    const state = readText(req, 'state', problems);
    if (state !== undefined && !RUN_STATES.includes(state as RunState)) problems.push(`state: must be one of ${RUN_STATES.join(', ')}`);
    if (problems.length > 0) return invalid(res, problems);
    const page = await store.runs({ ...range, limit, ...(workflow ? { workflow } : {}), ...(state ? { state: state as RunState } : {}) });
    res.json({ from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString(), total: page.total, runs: page.runs });
  });

  app.get('/api/v1/dead-letters', async (req, res) => {
    const problems: string[] = [];
    const range = readRange(req, now(), problems);
    const limit = readLimit(req, problems);
    const topic = readText(req, 'topic', problems);
    const reason = readText(req, 'reason', problems);
    if (problems.length > 0) return invalid(res, problems);
    const page = await store.deadLetters({ ...range, limit, ...(topic ? { topic } : {}), ...(reason ? { reason } : {}) });
    res.json({ from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString(), total: page.total, deadLetters: page.deadLetters.map(deadLetterView) });
  });
}

/** A dead letter as JSON: the raw message as text (bad UTF-8 replaced), cut to a preview. */
export function deadLetterView(d: DeadLetter) {
  const raw = d.raw ?? Buffer.alloc(0);
  return {
    at: new Date(d.at).toISOString(),
    reason: d.reason,
    detail: d.detail,
    origin: d.origin,
    key: d.key,
    headers: d.headers,
    rawBytes: d.raw ? raw.length : null,
    rawPreview: raw.subarray(0, RAW_PREVIEW_BYTES).toString('utf8'),
    rawTruncated: raw.length > RAW_PREVIEW_BYTES,
  };
}

function readText(req: Request, name: string, problems: string[]): string | undefined {
  const value = req.query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') {
    problems.push(`${name}: give it once`);
    return undefined;
  }
  if (value.length > 256) problems.push(`${name}: longer than 256 characters`);
  return value;
}

/** `from` and `to` as ISO 8601 or epoch ms; by default the last 7 days. */
function readRange(req: Request, at: number, problems: string[]): { from: number; to: number } {
  const time = (name: string, fallback: number) => {
    const text = readText(req, name, problems);
    if (text === undefined) return fallback;
    const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    if (!Number.isSafeInteger(ms) || ms < 0) {
      problems.push(`${name}: not a time (ISO 8601 or epoch milliseconds): ${JSON.stringify(text.slice(0, 40))}`);
      return fallback;
    }
    return ms;
  };
  const to = time('to', at + AHEAD_MS);
  const from = time('from', to - 7 * DAY_MS);
  if (from >= to) problems.push('from: must be before to');
  return { from, to };
}

function readLimit(req: Request, problems: string[]): number {
  const text = readText(req, 'limit', problems);
  if (text === undefined) return DEFAULT_LIMIT;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    problems.push(`limit: a whole number from 1 to ${MAX_LIMIT}`);
    return DEFAULT_LIMIT;
  }
  return n;
}

function invalid(res: Response, problems: readonly string[]): void {
  res.status(400).json({ error: 'invalid query', problems });
}
