import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { systemClock, type Clock } from './clock.ts';
import { PagerDutyOptionsError } from './options-error.ts';
import type { RetryPolicy } from './retrying-delivery.ts';
import { DEFAULT_ENDPOINT } from './transport.ts';

export interface PagerDutyNotifierOptions {
  registry: Registry;
  logger: Logger;
  /** Events API v2 endpoint; tests point it at a local server. Default: PagerDuty's. */
  url?: string;
  /** `payload.source` of every trigger. Default "seamwatch". */
  source?: string;
  /** `client_url` of every trigger: seamwatch's web view. */
  clientUrl?: string;
  /** Events waiting or in delivery at most; beyond it send() answers queue-full. Default 1000. */
  queueSize?: number;
  /** Requests in flight at most (one per dedup key at a time). Default 4. */
  concurrency?: number;
  /** Timeout of one request, ms. Default 10 s. */
  requestTimeoutMs?: number;
  /** Backoff and deadline. Defaults: 1 s doubling to 60 s; give up 10 min after send(). */
  retry?: Partial<RetryPolicy>;
  /** How long shutdown() may spend delivering what is queued, ms. Default 10 s. */
  shutdownTimeoutMs?: number;
  clock?: Clock;
  /** In [0, 1): the backoff jitter. */
  random?: () => number;
}

export interface CompiledNotifierOptions {
  registry: Registry;
  logger: Logger;
  url: string;
  source: string;
  clientUrl: string | undefined;
  queueSize: number;
  concurrency: number;
  requestTimeoutMs: number;
  retry: RetryPolicy;
  shutdownTimeoutMs: number;
  clock: Clock;
  random: () => number;
}

/** Fills defaults and checks everything at once; throws PagerDutyOptionsError listing every problem. */
export function compileNotifierOptions(options: PagerDutyNotifierOptions): CompiledNotifierOptions {
  const compiled: CompiledNotifierOptions = {
    registry: options.registry,
    logger: options.logger,
    url: options.url ?? DEFAULT_ENDPOINT,
    source: options.source ?? 'seamwatch',
    clientUrl: options.clientUrl,
    queueSize: options.queueSize ?? 1_000,
    concurrency: options.concurrency ?? 4,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    retry: {
      baseMs: options.retry?.baseMs ?? 1_000,
      maxMs: options.retry?.maxMs ?? 60_000,
      deadlineMs: options.retry?.deadlineMs ?? 600_000,
    },
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? 10_000,
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
  };
  const problems: string[] = [];
  if (!isHttpUrl(compiled.url)) problems.push(`url: not an absolute http(s) URL: "${compiled.url}"`);
  if (!compiled.source.trim()) problems.push('source: must not be empty');
  if (compiled.clientUrl !== undefined && !isHttpUrl(compiled.clientUrl)) problems.push(`clientUrl: not an absolute http(s) URL: "${compiled.clientUrl}"`);
  const positive: [string, number][] = [
    ['queueSize', compiled.queueSize],
    ['concurrency', compiled.concurrency],
    ['requestTimeoutMs', compiled.requestTimeoutMs],
    ['retry.baseMs', compiled.retry.baseMs],
    ['retry.maxMs', compiled.retry.maxMs],
    ['retry.deadlineMs', compiled.retry.deadlineMs],
    ['shutdownTimeoutMs', compiled.shutdownTimeoutMs],
  ];
  for (const [name, value] of positive) {
    if (!Number.isSafeInteger(value) || value < 1) problems.push(`${name}: must be a positive integer, got ${value}`);
  }
  if (compiled.retry.maxMs < compiled.retry.baseMs) problems.push(`retry.maxMs: must be at least retry.baseMs (${compiled.retry.baseMs}), got ${compiled.retry.maxMs}`);
  if (problems.length > 0) throw new PagerDutyOptionsError(problems);
  return compiled;
}

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:';
}
