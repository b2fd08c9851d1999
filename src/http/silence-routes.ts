import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { SilenceRegistry } from '../alerts/silences/silence-store.ts';
import { listSilences } from '../alerts/silences/silence-book.ts';
import { silenceState, type SilenceState } from '../alerts/silences/silence.ts';
import { readSilenceBody, silenceView, type DefaultStart } from './silence-body.ts';
import { bearerAuth } from './api-auth.ts';
import { DEFAULT_TOKEN_NAME, type NamedToken } from './config.ts';

export interface SilenceRoutesOptions {
  registry: SilenceRegistry;
  /** The bearer token mutations need; undefined or empty: the API is read-only (503). */
  token: string | undefined;
  /** Named tokens (`api.tokens`), accepted beside `token`. */
  tokens?: readonly NamedToken[];
  /** The variable the token comes from, for the read-only message. Default SEAMWATCH_API_TOKEN. */
  tokenEnv?: string;
  now?: () => number;
  logger?: Logger;
  /** Largest JSON body taken (express.json's `limit`). Default 64kb. */
  bodyLimit?: string;
  /** Records a change as a control action under the token's name (the controls' audit trail). */
  audit?: (actor: string, action: string, args: unknown) => Promise<unknown>;
  /**
   * Saves the silences to the store; a change is answered once it is stored, with `stored: true`
   * (the group's other instances and a restart know it). When the store does not answer within
   * `saveTimeoutMs` the change still holds here, the answer says `stored: false`, and the periodic
   * save keeps trying.
   */
  save?: () => Promise<void>;
  /** Default 5 s. */
  saveTimeoutMs?: number;
}

const STATES: readonly SilenceState[] = ['active', 'pending', 'expired'];
const BASE = '/api/v1/silences';

/**
 * The silences API: GET list (`?state=active|pending|expired`) and one, POST create, PUT update
 * (in place or replaced by a new id, as silence-book.ts decides), DELETE expire. Mutations need
 * `Authorization: Bearer <token>`; the token is compared in constant time and never logged.
 */
export function addSilenceRoutes(app: Express, options: SilenceRoutesOptions): void {
  const { registry } = options;
  const now = options.now ?? Date.now;
  const tokenEnv = options.tokenEnv ?? 'SEAMWATCH_API_TOKEN';
  const tokens = [...(options.token ? [{ name: DEFAULT_TOKEN_NAME, value: options.token }] : []), ...(options.tokens ?? [])];
  if (tokens.length === 0) options.logger?.warn({ tokenEnv }, `silences API is read-only: ${tokenEnv} is not set`);
  const requireToken = bearerAuth(tokens, `silences are read-only: set ${tokenEnv}`);
  // After the token check, so nobody without it gets a body parsed.
  const json = express.json({ limit: options.bodyLimit ?? '64kb' });
  const mutation = [requireToken, json];
  /** `{ stored }` for the answer once the change is saved, or has not been in time; nothing without a store. */
  const store = async (silence: { id: string }): Promise<{ stored?: boolean }> => {
    if (!options.save) return {};
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the store did not answer within ${options.saveTimeoutMs ?? 5_000} ms`)), options.saveTimeoutMs ?? 5_000);
    });
    try {
      await Promise.race([options.save(), late]);
      return { stored: true };
    } catch (error) {
      options.logger?.warn({ err: error, silence: silence.id }, 'silence holds on this instance but is not stored yet: other instances and a restart do not know it until a save gets through (retried every few seconds)');
      return { stored: false };
    } finally {
      clearTimeout(timer);
    }
  };

  app.get(BASE, (req, res) => {
    const state = req.query['state'];
    if (state !== undefined && !STATES.includes(state as SilenceState)) {
      res.status(400).json({ error: `state must be active, pending or expired, not ${JSON.stringify(state)}` });
      return;
    }
    const at = now();
    res.json({ silences: listSilences(registry.list(), at, { state: state as SilenceState | undefined }).map((s) => silenceView(s, at)) });
  });

  app.get(`${BASE}/:id`, (req: Request<{ id: string }>, res) => {
    const silence = registry.get(req.params.id);
    if (!silence) return notFound(res, req.params.id);
    res.json(silenceView(silence, now()));
  });

  app.post(BASE, ...mutation, async (req: Request, res: Response) => {
    const at = now();
    const body = readSilenceBody(req.body, at);
    if (!body.ok) return invalid(res, body.problems);
    const result = registry.create(body.input, at);
    if (!result.ok) return invalid(res, result.problems);
    options.logger?.info(logFields(result.silence), 'silence created');
    const stored = await store(result.silence);
    await options.audit?.(String(res.locals['actor']), 'silence-create', logFields(result.silence));
    res.status(201).location(`${BASE}/${encodeURIComponent(result.silence.id)}`).json({ ...silenceView(result.silence, at), ...stored });
  });

  app.put(`${BASE}/:id`, ...mutation, async (req: Request<{ id: string }>, res: Response) => {
    const at = now();
    const current = registry.get(req.params.id);
    if (!current) return notFound(res, req.params.id);
    // What updateSilence takes when no startsAt is given: the current start, or now for an expired one.
    const defaultStart: DefaultStart = (n) => (silenceState(current, n) === 'expired' ? n : current.startsAt);
    const body = readSilenceBody(req.body, at, defaultStart);
    if (!body.ok) return invalid(res, body.problems);
    const result = registry.update(current.id, body.input, at);
    if (!result.ok) return invalid(res, result.problems);
    const replaced = result.silence.id !== current.id;
    options.logger?.info({ ...logFields(result.silence), ...(replaced ? { replaced: current.id } : {}) }, replaced ? 'silence replaced' : 'silence updated');
    const stored = await store(result.silence);
    await options.audit?.(String(res.locals['actor']), 'silence-update', { ...logFields(result.silence), ...(replaced ? { replaced: current.id } : {}) });
    res.location(`${BASE}/${encodeURIComponent(result.silence.id)}`).json({ ...silenceView(result.silence, at), ...stored });
  });

  app.delete(`${BASE}/:id`, requireToken, async (req: Request<{ id: string }>, res: Response) => {
    const at = now();
    const current = registry.get(req.params.id);
    if (!current) return notFound(res, req.params.id);
    const result = registry.expire(current.id, at);
    if (!result.ok) {
      res.status(409).json({ error: result.problems.join('; ') });
      return;
    }
    options.logger?.info(logFields(result.silence), 'silence expired');
    const stored = await store(result.silence);
    await options.audit?.(String(res.locals['actor']), 'silence-expire', logFields(result.silence));
    res.json({ ...silenceView(result.silence, at), ...stored });
  });

  // Body errors from express.json, answered here rather than as a logged 500.
  app.use(BASE, (error: unknown, _req: Request, res: Response, next: NextFunction) => {
    const type = (error as { type?: unknown } | null)?.type;
    if (type === 'entity.too.large') res.status(413).json({ error: `body: larger than ${options.bodyLimit ?? '64kb'}` });
    else if (type === 'entity.parse.failed') res.status(400).json({ error: 'invalid silence', problems: ['body: not valid JSON'] });
    else if ((typeof type === 'string' && type.startsWith('encoding.')) || type === 'charset.unsupported') res.status(415).json({ error: 'body: unsupported encoding' });
    else next(error);
  });
}

function notFound(res: Response, id: string): void {
  res.status(404).json({ error: `silence ${JSON.stringify(id)} not found` });
}

function invalid(res: Response, problems: readonly string[]): void {
  res.status(400).json({ error: 'invalid silence', problems });
}

function logFields(silence: { id: string; createdBy: string; endsAt: number; matchers: readonly { toString(): string }[] }) {
  return { silence: silence.id, createdBy: silence.createdBy, matchers: silence.matchers.map(String).join(', '), endsAt: new Date(silence.endsAt).toISOString() };
}
