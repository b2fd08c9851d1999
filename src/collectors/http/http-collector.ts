import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Tracer } from '@opentelemetry/api';
import { requestSpans } from '../../telemetry/self/request-spans.ts';
import { Counter, type Registry } from 'prom-client';
import type { SourceConfig } from '../config.ts';
import type { Intake, PartitionPosition } from '../intake.ts';
import type { HttpIntakeConfig } from './config.ts';
import { deliver, headersOf, type Route } from './delivery.ts';

export type HttpCollectorState = 'initialized' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface HttpCollectorOptions {
  intakeConfig: HttpIntakeConfig;
  /** Only the sources with `transport: http` are served. */
  sources: readonly SourceConfig[];
  intake: Intake;
  logger: Logger;
  registry?: Registry;
  /** Where the signing secrets are read (checked at config validation). */
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  onBackpressure?: () => void;
  /** How long a stop waits for the last flush before it gives up on it (ms). */
  finalFlushDeadline?: number;
  /** Self-tracing: a span per delivery. */
  tracer?: Tracer;
}

const TICK_MS = 200;
const GAUGES_EVERY_MS = 5_000;

/**
 * HTTP source: providers post events (CloudEvents HTTP binding, or their own JSON mapped by the
 * config), optionally signed. A request is answered 202 only once the store acknowledged its
 * events, the HTTP counterpart of committing Kafka offsets after the store: a sender that gets
 * no 202 retries, and the retry is deduped by (source, id). It has its own listener, apart from
 * the API's: the intake faces the providers while /metrics and the API stay internal, and it
 * stops taking requests first on shutdown, while /readyz and /metrics answer to the end.
 */
export class HttpCollector {
  private state: HttpCollectorState = 'initialized';
  private readonly options: HttpCollectorOptions;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly routes = new Map<string, Route>();
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastOffset = 0;
  private lastGauges = 0;
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopPromise: Promise<void> | undefined;
  private readonly requests: Counter<'source' | 'status'> | undefined;

  constructor(options: HttpCollectorOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.logger = options.logger.child({ component: 'http-collector' });
    const env = options.env ?? process.env;
    for (const source of options.sources) {
      if (source.transport !== 'http' || !source.http) continue;
      const signature = source.http.signature;
      const secret = signature ? env[signature.secretEnv] : undefined;
      if (signature && !secret) throw new Error(`sources.${source.name}.http.signature.secretEnv: environment variable ${signature.secretEnv} is not set`);
      this.routes.set(source.http.path ?? `/ingest/${source.name}`, { source, ...(signature ? { signature: { config: signature, secret: secret! } } : {}) });
    }
    this.requests = options.registry
      ? new Counter({
          name: 'seamwatch_http_intake_requests_total',
          help: 'Requests to the HTTP intake by source and response status (202 stored, 400/401/413 refused, 429/503 retry later).',
          labelNames: ['source', 'status'],
          registers: [options.registry],
        })
      : undefined;
  }

  /** The partitions HTTP deliveries are owned under, by topic: always this instance's. */
  get ownedPartitions(): Record<string, number[]> {
    const { partition } = this.options.intakeConfig;
    return Object.fromEntries([...this.routes.values()].map((r) => [r.source.topic, [partition]]));
  }

  get ready(): boolean {
    return this.state === 'running';
  }

  get lifecycle(): HttpCollectorState {
    return this.state;
  }

  get port(): number {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address.port : this.options.intakeConfig.port;
  }

  /**
   * Offsets only have to increase, across restarts too (dead letters are keyed by them): the
   * wall clock in microseconds, bumped by one when two deliveries share a microsecond.
   */
  private nextOffset(): string {
    this.lastOffset = Math.max(this.lastOffset + 1, this.now() * 1000);
    return String(this.lastOffset);
  }

  /** Rebuilds what the HTTP partition owns from the store, then listens. */
  async start(): Promise<void> {
    if (this.state !== 'initialized') throw new Error(`cannot start a collector that is ${this.state}`);
    this.state = 'starting';
    const { intake, intakeConfig } = this.options;
    // Nothing is read again over HTTP: every stored event is behind the "committed" position.
    const next = String(this.now() * 1000);
    this.lastOffset = Number(next);
    const positions: PartitionPosition[] = Object.entries(this.ownedPartitions).flatMap(([topic, partitions]) =>
      partitions.map((partition) => ({ topic, partition, committed: next, low: next, high: next })),
    );
    intake.retainPartitions(this.ownedPartitions);
    await intake.recover(positions);
    await new Promise<void>((resolve, reject) => {
      const server = this.app().listen(intakeConfig.port, intakeConfig.host, (error?: Error) => (error ? reject(error) : resolve()));
      server.on('error', reject);
      this.server = server;
    });
    this.timer = setInterval(() => this.onTick(), TICK_MS);
    this.timer.unref();
    this.state = 'running';
    this.logger.info({ url: `http://${intakeConfig.host}:${this.port}`, paths: [...this.routes.keys()] }, 'http intake listening');
  }

  private app(): express.Express {
    const app = express();
    app.disable('x-powered-by');
    if (this.options.tracer) app.use(requestSpans(this.options.tracer));
    const body = express.raw({ type: () => true, limit: this.options.intakeConfig.maxBodyBytes });
    for (const [path, route] of this.routes) {
      app.post(path, body, (req, res, next) => {
        const handled = this.handle(route, req, res).catch(next);
        this.inFlight.add(handled);
        void handled.finally(() => this.inFlight.delete(handled));
      });
    }
    app.use((_req, res) => {
      res.status(404).json({ error: 'not-found', detail: `POST events to one of: ${[...this.routes.keys()].join(', ')}` });
    });
    app.use((error: { type?: string; status?: number } & Error, req: Request, res: Response, _next: NextFunction) => {
      const source = this.routes.get(req.path)?.source.name ?? 'unknown';
      if (error.type === 'entity.too.large') {
        this.answer(res, source, 413, { error: 'too-large', detail: `the body is larger than httpIntake.maxBodyBytes (${this.options.intakeConfig.maxBodyBytes} bytes)` });
        return;
      }
      if (error.status !== undefined && error.status >= 400 && error.status < 500) {
        this.answer(res, source, 400, { error: 'bad-request', detail: error.message });
        return;
      }
      this.logger.error({ err: error }, 'intake request failed');
      this.answer(res, source, 500, { error: 'internal-error' });
    });
    return app;
  }

  private answer(res: Response, source: string, status: number, body: object): void {
    this.requests?.inc({ source, status: String(status) });
    if (status === 429 || status === 503) res.set('Retry-After', String(Math.ceil(this.options.intakeConfig.retryAfter / 1000)));
    res.status(status).json(body);
  }

  private async handle(route: Route, req: Request, res: Response): Promise<void> {
    const { intake, intakeConfig } = this.options;
    const answer = await deliver(route, { headers: headersOf(req.headers), body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0) }, {
      intake,
      accepting: this.state === 'running' ? undefined : this.state,
      partition: intakeConfig.partition,
      now: this.now(),
      nextOffset: () => this.nextOffset(),
      stored: () => this.stored(),
      onBackpressure: () => this.options.onBackpressure?.(),
    });
    this.answer(res, route.source.name, answer.status, answer.body);
  }

  /** Waits for the flush that stores what was just processed, at most `ackTimeout`. */
  private async stored(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), this.options.intakeConfig.ackTimeout)));
    const flushed = this.options.intake.flush().then(
      () => true,
      (error: unknown) => {
        this.logger.error({ err: error }, 'flush failed');
        return false;
      },
    );
    try {
      return await Promise.race([flushed, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Writes what is buffered, giving up at the deadline when the store does not answer. What is
   * given up was never answered 202 (or was, and is stored): its senders retry.
   */
  private async lastFlush(): Promise<void> {
    const { intake } = this.options;
    intake.tick();
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = await Promise.race([
      intake.flush().then(() => false, (error: unknown) => (this.logger.error({ err: error }, 'flush failed'), false)),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.options.finalFlushDeadline ?? 15_000))),
    ]);
    clearTimeout(timer);
    if (gaveUp) {
      intake.abortRetries();
      this.logger.warn({ bufferedRows: intake.bufferedRows }, 'gave up the last flush: the store did not answer; unanswered senders will retry');
    }
  }

  private onTick(): void {
    if (this.state !== 'running') return;
    const { intake } = this.options;
    intake.tick();
    if (this.now() - this.lastGauges >= GAUGES_EVERY_MS) {
      this.lastGauges = this.now();
      intake.updateGauges();
    }
    if (intake.flushDue()) {
      intake.flush().catch((error: unknown) => this.logger.error({ err: error }, 'flush failed'));
    }
  }

  /**
   * Stops taking requests, lets those in hand be answered (each waits for its flush, at most
   * ackTimeout), closes the listener and writes what is left. Safe twice and before start().
   */
  shutdown(): Promise<void> {
    this.stopPromise ??= this.stop();
    return this.stopPromise;
  }

  private async stop(): Promise<void> {
    const wasRunning = this.state === 'running' || this.state === 'starting';
    this.state = 'stopping';
    if (this.timer) clearInterval(this.timer);
    if (wasRunning && this.server) {
      const server = this.server;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.allSettled([...this.inFlight]);
      server.closeAllConnections();
      await closed;
      await this.lastFlush();
    }
    this.state = 'stopped';
    this.logger.info('http intake stopped');
  }
}
