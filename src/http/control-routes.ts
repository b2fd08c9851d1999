import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { parseDuration } from '../domain/duration.ts';
import { PAUSE_SCOPES, type ControlStore, type PagingPause, type PauseScope } from '../domain/controls.ts';
import { pauseActive } from '../alerts/pauses/pause.ts';
import type { PauseBook } from '../controls/paging-pauses.ts';
import type { AuditTrail } from '../controls/audit.ts';
import { ReplayRefused, type ReplayProgress, type ReplayQuery, type ReplayReport } from '../controls/dlq-replay.ts';
import { BackfillRefused, type BackfillPhase, type BackfillQuery, type BackfillReport } from '../controls/backfill.ts';
import { bearerAuth } from './api-auth.ts';
import type { NamedToken } from './config.ts';

export interface ControlRoutesOptions {
  pauses: PauseBook;
  audit: AuditTrail;
  store: Pick<ControlStore, 'audit'>;
  tokens: readonly NamedToken[];
  /** Named in the read-only answer. */
  tokenEnv: string;
  /** The teams and workflows the config knows: a pause of another name would hold nothing. */
  known: { team: readonly string[]; workflow: readonly string[] };
  replay?: (query: ReplayQuery, progress: (p: ReplayProgress) => void) => Promise<ReplayReport>;
  backfill?: (query: BackfillQuery, progress: (p: BackfillPhase) => void) => Promise<BackfillReport>;
  now?: () => number;
  logger: Logger;
}

/** The view of a pause the API and the alerts list show. */
export function pauseView(p: PagingPause, now: number) {
  return {
    scope: p.scope,
    name: p.name,
    active: pauseActive(p, now),
    paused: p.paused,
    until: p.until ? new Date(p.until).toISOString() : null,
    reason: p.reason,
    by: p.actor,
    at: new Date(p.at).toISOString(),
  };
}

/**
 * The operator's controls: paging pauses (GET/POST /api/v1/pauses, DELETE
 * /api/v1/pauses/<scope>/<name>), dead-letter replay (POST /api/v1/dlq/replay), backfill (POST
 * /api/v1/backfill) and the audit trail (GET /api/v1/audit). Every mutation needs a bearer
 * token and is audited under the token's name; replay and backfill answer with NDJSON progress
 * lines and a last `{"done": …}` (or `{"error": …}`) line.
 */
export function addControlRoutes(app: Express, options: ControlRoutesOptions): void {
  const now = options.now ?? Date.now;
  const auth = bearerAuth(options.tokens, `controls are read-only: set ${options.tokenEnv} (or api.tokens)`);
  const json = express.json({ limit: '16kb' });
  const mutation = [auth, json];
  const actor = (res: Response) => String(res.locals['actor']);

  app.get('/api/v1/pauses', (_req, res) => {
    const at = now();
    res.json({ pauses: options.pauses.list().map((p) => pauseView(p, at)) });
  });

  app.post('/api/v1/pauses', ...mutation, async (req: Request, res: Response) => {
    const at = now();
    const body = readPauseBody(req.body, at, options.known);
    if (!body.ok) {
      await options.audit.record(actor(res), 'pause', req.body, 'refused', body.problems.join('; '));
      res.status(400).json({ error: 'invalid pause', problems: body.problems });
      return;
    }
    const pause: PagingPause = { ...body.pause, paused: true, actor: actor(res), at };
    await options.pauses.set(pause);
    await options.audit.record(pause.actor, 'pause', body.args, 'ok');
    res.status(201).json(pauseView(pause, at));
  });

  app.delete('/api/v1/pauses/:scope/:name', auth, async (req: Request<{ scope: string; name: string }>, res: Response) => {
    const at = now();
    const { scope, name } = req.params;
    const args = { scope, name };
    const current = PAUSE_SCOPES.includes(scope as PauseScope) ? options.pauses.get(scope as PauseScope, name) : undefined;
    if (!current || !pauseActive(current, at)) {
      await options.audit.record(actor(res), 'resume', args, 'refused', 'not paused');
      res.status(404).json({ error: `paging is not paused for ${scope} "${name}"` });
      return;
    }
    const resumed: PagingPause = { ...current, paused: false, until: 0, actor: actor(res), at, reason: current.reason };
    await options.pauses.set(resumed);
    await options.audit.record(resumed.actor, 'resume', args, 'ok');
    res.json(pauseView(resumed, at));
  });

  app.get('/api/v1/audit', async (req, res) => {
    const since = typeof req.query['since'] === 'string' ? parseSince(req.query['since'], now()) : 0;
    const limit = typeof req.query['limit'] === 'string' ? Number(req.query['limit']) : 100;
    if (since === undefined || !Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      res.status(400).json({ error: 'since must be a duration (2h) or an RFC 3339 time; limit an integer from 1 to 10000' });
      return;
    }
    const rows = await options.store.audit({ since, limit });
    res.json({ audit: rows.map((r) => ({ id: r.id, at: new Date(r.at).toISOString(), actor: r.actor, action: r.action, args: safeJson(r.args), outcome: r.outcome, detail: r.detail })) });
  });

  if (options.replay) {
    const replay = options.replay;
    app.post('/api/v1/dlq/replay', ...mutation, async (req: Request, res: Response) => {
      const b = (req.body ?? {}) as Record<string, unknown>;
      const since = typeof b['since'] === 'string' ? parseSince(b['since'], now()) : undefined;
      const limit = b['limit'] === undefined ? 100_000 : Number(b['limit']);
      const problems = [
        ...(typeof b['topic'] === 'string' && b['topic'] !== '' ? [] : ['topic: required']),
        ...(since !== undefined ? [] : ['since: required, a duration back from now (24h) or an RFC 3339 time']),
        ...(Number.isInteger(limit) && limit > 0 && limit <= 1_000_000 ? [] : ['limit: an integer from 1 to 1000000']),
      ];
      const query: ReplayQuery = { topic: String(b['topic']), since: since ?? 0, limit, ...(b['dryRun'] === true ? { dryRun: true } : {}) };
      await streamJob(res, options.audit, actor(res), 'dlq-replay', { topic: b['topic'], since: b['since'], limit, dryRun: b['dryRun'] === true }, problems, (progress) => replay(query, progress), ReplayRefused);
    });
  }

  if (options.backfill) {
    const run = options.backfill;
    app.post('/api/v1/backfill', ...mutation, async (req: Request, res: Response) => {
      const b = (req.body ?? {}) as Record<string, unknown>;
      const from = typeof b['from'] === 'string' ? Date.parse(b['from']) : NaN;
      const to = typeof b['to'] === 'string' ? Date.parse(b['to']) : NaN;
      const maxEvents = b['maxEvents'] === undefined ? 2_000_000 : Number(b['maxEvents']);
      const problems = [
        ...(Number.isFinite(from) ? [] : ['from: required, an RFC 3339 time']),
        ...(Number.isFinite(to) ? [] : ['to: required, an RFC 3339 time']),
        ...(Number.isInteger(maxEvents) && maxEvents > 0 ? [] : ['maxEvents: a positive integer']),
      ];
      const query: BackfillQuery = { from, to, maxEvents, ...(b['dryRun'] === true ? { dryRun: true } : {}) };
      await streamJob(res, options.audit, actor(res), 'backfill', { from: b['from'], to: b['to'], dryRun: b['dryRun'] === true }, problems, (progress) => run(query, progress), BackfillRefused);
    });
  }

  app.use(['/api/v1/pauses', '/api/v1/dlq', '/api/v1/backfill'], (error: unknown, _req: Request, res: Response, next: NextFunction) => {
    const type = (error as { type?: unknown } | null)?.type;
    if (type === 'entity.parse.failed') res.status(400).json({ error: 'body: not valid JSON' });
    else if (type === 'entity.too.large') res.status(413).json({ error: 'body: too large' });
    else next(error);
  });
}

/**
 * Runs a long control action, answering with NDJSON: one line per progress report, then
 * `{"done": report}` or `{"error": message}`. Audited when it starts and when it ends.
 */
async function streamJob<P, R>(
  res: Response,
  audit: AuditTrail,
  actor: string,
  action: string,
  args: unknown,
  problems: readonly string[],
  job: (progress: (p: P) => void) => Promise<R>,
  Refused: new (message: string) => Error,
): Promise<void> {
  if (problems.length > 0) {
    await audit.record(actor, action, args, 'refused', problems.join('; '));
    res.status(400).json({ error: `invalid ${action}`, problems });
    return;
  }
  const entry = await audit.begin(actor, action, args);
  res.status(200).type('application/x-ndjson');
  const line = (value: unknown) => res.write(`${JSON.stringify(value)}\n`);
  line({ started: entry.id });
  try {
    const report = await job((p) => line({ progress: p }));
    await entry.end('ok', JSON.stringify(summary(report)));
    line({ done: report });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await entry.end(error instanceof Refused ? 'refused' : 'failed', message).catch(() => undefined);
    line({ error: message, refused: error instanceof Refused });
  }
  res.end();
}

/** A report without long lists, for the audit row. */
function summary(report: unknown): unknown {
  if (report === null || typeof report !== 'object') return report;
  return Object.fromEntries(Object.entries(report).map(([k, v]) => [k, Array.isArray(v) ? v.length : v]));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A duration back from now ("24h") or an RFC 3339 time; undefined when neither. */
export function parseSince(value: string, now: number): number | undefined {
  const duration = parseDuration(value);
  if (duration !== undefined) return now - duration;
  const at = /\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : NaN;
  return Number.isFinite(at) ? at : undefined;
}

type PauseBody =
  | { ok: true; pause: Pick<PagingPause, 'scope' | 'name' | 'until' | 'reason'>; args: Record<string, unknown> }
  | { ok: false; problems: string[] };

/** Reads `{scope, name, reason, duration? | until?}`; every problem at once. Pure. */
export function readPauseBody(body: unknown, now: number, known: ControlRoutesOptions['known']): PauseBody {
  const b = (body !== null && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const problems: string[] = [];
  const scope = b['scope'];
  const name = b['name'];
  if (scope !== 'team' && scope !== 'workflow') problems.push(`scope: must be "team" or "workflow"`);
  if (typeof name !== 'string' || name === '') problems.push('name: required');
  else if ((scope === 'team' || scope === 'workflow') && !known[scope].includes(name)) {
    problems.push(`name: no ${scope} "${name}" in the config (known: ${known[scope].join(', ') || 'none'})`);
  }
  if (typeof b['reason'] !== 'string' || b['reason'].trim() === '') problems.push('reason: required (the incident, a ticket)');
  let until = 0;
  if (b['duration'] !== undefined && b['until'] !== undefined) problems.push('duration, until: give one, not both');
  else if (b['duration'] !== undefined) {
    const d = typeof b['duration'] === 'string' ? parseDuration(b['duration']) : undefined;
    if (d === undefined || d <= 0) problems.push(`duration: not a duration: ${JSON.stringify(b['duration'])} (e.g. 30m, 2h)`);
    else until = now + d;
  } else if (b['until'] !== undefined) {
    const t = typeof b['until'] === 'string' && /\d{4}-\d{2}-\d{2}T/.test(b['until']) ? Date.parse(b['until']) : NaN;
    if (!Number.isFinite(t)) problems.push(`until: not an RFC 3339 time: ${JSON.stringify(b['until'])}`);
    else if (t <= now) problems.push('until: must be in the future');
    else until = t;
  }
  if (problems.length > 0) return { ok: false, problems };
  const args = { scope, name, reason: b['reason'], ...(until ? { until: new Date(until).toISOString() } : {}) };
  return { ok: true, pause: { scope: scope as PauseScope, name: name as string, until, reason: (b['reason'] as string).trim() }, args };
}
