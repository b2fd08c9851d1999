import type { Server } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Tracer } from '@opentelemetry/api';
import { requestSpans } from '../telemetry/self/request-spans.ts';
import type { Store } from '../domain/store.ts';
import type { SloEngine } from '../slo/engine.ts';
import { addSloRoutes } from './slo-routes.ts';
import type { AlertEngine } from '../alerts/engine.ts';
import { silencedBy } from '../alerts/silences/silence.ts';
import type { SilenceRegistry } from '../alerts/silences/silence-store.ts';
import { addSilenceRoutes } from './silence-routes.ts';
import { addControlRoutes, pauseView, type ControlRoutesOptions } from './control-routes.ts';
import { pausedBy } from '../alerts/pauses/pause.ts';
import { DEFAULT_TOKEN_NAME, type NamedToken } from './config.ts';
import { addBrowseRoutes } from './browse-routes.ts';
import { bearerAuth } from './api-auth.ts';
import { addWebView } from './web-view.ts';
import type { WorkflowDefinition } from '../domain/workflow.ts';

export interface HttpServerOptions {
  host: string;
  port: number;
  registry: Registry;
  store: Store;
  /** Whether the instance takes traffic: joined its consumer group, store reachable. */
  ready: () => boolean;
  /** What /readyz adds to say why it is not ready (e.g. `missingTopics`). */
  readiness?: () => Record<string, unknown>;
  logger: Logger;
  slo?: SloEngine;
  alerts?: Pick<AlertEngine, 'alerts'>;
  /** The silences the dispatcher reads; with them come the silences API and `silencedBy` on alerts. */
  silences?: SilenceRegistry;
  /** Saves the silences to the store: a change is answered once stored (see SilenceRoutesOptions.save). */
  saveSilences?: () => Promise<void>;
  /** How long a change waits for that save (default 5 s). */
  saveSilencesTimeoutMs?: number;
  /** Bearer token for silence mutations; without it the silences API is read-only. */
  apiToken?: string | undefined;
  /** Where apiToken came from, named in the read-only answer. Default SEAMWATCH_API_TOKEN. */
  apiTokenEnv?: string;
  /** Named tokens (`api.tokens`), accepted beside apiToken. */
  apiTokens?: readonly NamedToken[];
  /** The operator's controls (paging pauses, replay, backfill, audit); with them, alerts show `pausedBy`. */
  controls?: Omit<ControlRoutesOptions, 'tokens' | 'tokenEnv' | 'now' | 'logger'>;
  /** Wall clock for silence states. */
  now?: () => number;
  /** The weekly scorecard page of a team (HTML), or undefined for an unknown team; the root wires it. */
  scorecardPage?: (week: string, team: string) => Promise<{ status: number; html: string }>;
  /** Workflow definitions, for the runs and trace pages (step order, deadline). */
  workflows?: readonly WorkflowDefinition[];
  /** The receivers an alert with these labels is routed to (the routing tree); without routes, none. */
  receiversFor?: (labels: Readonly<Record<string, string>>) => string[];
  /** `api.protectReads`: every /api/v1 read and the scorecard pages need the API token too. */
  protectReads?: boolean;
  /** Folder of the built web view (default web/dist of the project). */
  webRoot?: string;
  /** Self-tracing: a span per request. */
  tracer?: Tracer;
}

/** /metrics, /healthz, /readyz, the web view, traces, runs, dead letters, SLOs, alerts and the silences API. */
export class HttpServer {
  private readonly options: HttpServerOptions;
  private server: Server | undefined;
  readonly app: Express;
  private closing: Promise<void> | undefined;

  constructor(options: HttpServerOptions) {
    this.options = options;
    this.app = this.routes();
  }

  private routes(): Express {
    const { registry, store, ready } = this.options;
    const app = express();
    app.disable('x-powered-by');
    if (this.options.tracer) app.use(requestSpans(this.options.tracer));
    app.get('/metrics', async (_req, res) => {
      res.type(registry.contentType).send(await registry.metrics());
    });
    app.get('/healthz', (_req, res) => {
      res.json({ status: 'ok' });
    });
    app.get('/readyz', async (_req, res) => {
      const storeUp = await store.ping().catch(() => false);
      const consuming = ready();
      res.status(storeUp && consuming ? 200 : 503).json({ status: storeUp && consuming ? 'ready' : 'not ready', store: storeUp, consuming, ...(this.options.readiness?.() ?? {}) });
    });
    addWebView(app, this.options.webRoot);
    const tokens: NamedToken[] = [...(this.options.apiToken ? [{ name: DEFAULT_TOKEN_NAME, value: this.options.apiToken }] : []), ...(this.options.apiTokens ?? [])];
    const tokenEnv = this.options.apiTokenEnv ?? 'SEAMWATCH_API_TOKEN';
    if (this.options.protectReads) {
      const guard = bearerAuth(tokens, `reads need the API token (api.protectReads): set ${tokenEnv}`);
      // Reads only: mutations have their own check. A browser following a trace link is sent to the page, which asks for the token.
      app.use(['/api/v1', '/scorecards'], (req, res, next) => {
        if (req.method !== 'GET' && req.method !== 'HEAD') return next();
        if (req.baseUrl === '/api/v1' && req.path.startsWith('/traces/') && req.accepts(['json', 'html']) === 'html') return next();
        guard(req, res, next);
      });
    }
    const now = this.options.now ?? Date.now;
    addBrowseRoutes(app, {
      store,
      workflows: this.options.workflows ?? [],
      slos: () => this.options.slo?.definitions.map((s) => s.name) ?? [],
      now,
    });
    if (this.options.slo) addSloRoutes(app, this.options.slo, store);
    const { scorecardPage } = this.options;
    if (scorecardPage) {
      app.get('/scorecards/:week/:team', async (req: Request<{ week: string; team: string }>, res) => {
        const page = await scorecardPage(req.params.week, req.params.team);
        // The page holds event data: no scripts at all, images only inline.
        res.set('Content-Security-Policy', "default-src 'none'; img-src data:; style-src 'unsafe-inline'");
        res.status(page.status).type('html').send(page.html);
      });
    }
    const { alerts, silences, receiversFor } = this.options;
    if (silences) {
      addSilenceRoutes(app, {
        registry: silences,
        ...(this.options.saveSilences ? { save: this.options.saveSilences } : {}),
        ...(this.options.saveSilencesTimeoutMs !== undefined ? { saveTimeoutMs: this.options.saveSilencesTimeoutMs } : {}),
        token: this.options.apiToken,
        ...(this.options.apiTokens ? { tokens: this.options.apiTokens } : {}),
        ...(this.options.controls ? { audit: (actor: string, action: string, args: unknown) => this.options.controls!.audit.record(actor, action, args, 'ok') } : {}),
        ...(this.options.apiTokenEnv ? { tokenEnv: this.options.apiTokenEnv } : {}),
        now,
        logger: this.options.logger,
      });
    }
    const { controls } = this.options;
    if (controls) {
      addControlRoutes(app, {
        ...controls,
        tokens,
        tokenEnv,
        now,
        logger: this.options.logger,
      });
    }
    if (alerts) {
      app.get('/api/v1/alerts', (req, res) => {
        const state = typeof req.query['state'] === 'string' ? req.query['state'] : undefined;
        if (state !== undefined && !['pending', 'firing', 'resolved'].includes(state)) {
          res.status(400).json({ error: `state must be pending, firing or resolved, not "${state}"` });
          return;
        }
        // detector= and workflow= narrow the list: what a storm incident links to.
        const label = (name: string) => (typeof req.query[name] === 'string' ? (req.query[name] as string) : undefined);
        const detector = label('detector');
        const workflow = label('workflow');
        const list = alerts
          .alerts()
          .filter((a) => (state === undefined || a.state === state) && (detector === undefined || a.labels['detector'] === detector) && (workflow === undefined || a.labels['workflow'] === workflow));
        const at = now();
        const active = silences?.list() ?? [];
        const pauses = controls?.pauses.active(at) ?? [];
        res.json({
          // Paging pauses holding now (the operator's kill switch): their alerts are recorded, not paged.
          ...(controls ? { pauses: pauses.map((p) => pauseView(p, at)) } : {}),
          alerts: list.map((a) => ({
            ...a,
            startsAt: new Date(a.startsAt).toISOString(),
            endsAt: a.endsAt ? new Date(a.endsAt).toISOString() : null,
            // Why an alert is quiet: the active silences that match it now.
            silencedBy: silencedBy(active, a.labels, at),
            ...(controls ? { pausedBy: pausedBy(pauses, a.labels, at) } : {}),
            // Who it pages: the receivers its labels route to (before silences and inhibition).
            receivers: receiversFor?.(a.labels) ?? [],
          })),
        });
      });
    }
    app.use((_req, res) => {
      res.status(404).json({ error: 'not found' });
    });
    app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      this.options.logger.error({ err: error }, 'request failed');
      res.status(500).json({ error: 'internal error' });
    });
    return app;
  }

  async start(): Promise<void> {
    const { host, port, logger } = this.options;
    await new Promise<void>((resolve, reject) => {
      const server = this.app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve()));
      server.on('error', reject);
      this.server = server;
    });
    logger.info({ url: `http://${host}:${this.port}` }, 'http listening');
  }

  get port(): number {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address.port : this.options.port;
  }

  shutdown(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }
}
