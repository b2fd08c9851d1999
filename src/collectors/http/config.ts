import { z } from 'zod';
import { durationSchema } from '../../domain/duration.ts';

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name')
  .transform((h) => h.toLowerCase());

/**
 * A provider's signed webhooks: HMAC-SHA256 over `<timestamp>.<raw body>` with a shared secret.
 * The header holds the signature, either alone (`<sig>`, `sha256=<sig>`) or Stripe-style with the
 * timestamp (`t=<unix s>,v1=<sig>[,v1=<sig>]`); a separate timestamp header may carry it instead.
 * The secret is read from the environment variable named here, never from the file.
 */
export const signatureSchema = z
  .object({
    header: headerName,
    /** Where the unix-seconds timestamp is when it is not a `t=` element of `header`. */
    timestampHeader: headerName.optional(),
    secretEnv: envName,
    /** How far the signed timestamp may be from the wall clock: older deliveries are replays. */
    tolerance: durationSchema({ positive: true }).default(300_000),
    encoding: z.enum(['hex', 'base64']).default('hex'),
  })
  .strict();

/** A source's `http:` block (with `transport: http`). */
export const sourceHttpSchema = z
  .object({
    /** Default `/ingest/<source name>`. */
    path: z.string().regex(/^\/[A-Za-z0-9._~\/-]*$/, 'must be a URL path such as /ingest/billing').optional(),
    signature: signatureSchema.optional(),
  })
  .strict();

/** The `httpIntake:` section: the listener HTTP sources post to (its own port, apart from the API). */
export const httpIntakeSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(9471),
    /** Largest request body accepted; larger ones are answered 413. */
    maxBodyBytes: z.number().int().min(1_024).max(64 * 1024 * 1024).default(1024 * 1024),
    /** Longest a request waits for the store to acknowledge its events before it is answered 503. */
    ackTimeout: durationSchema({ positive: true }).default(10_000),
    /** What `Retry-After` tells a sender when the store is slow or down. */
    retryAfter: durationSchema({ positive: true }).default(5_000),
    /**
     * The partition number HTTP deliveries are owned under (runs, detector memory, alert state).
     * Beside Kafka, pick one no Kafka topic has, so that a rebalance never hands it to another instance.
     */
    partition: z.number().int().min(0).max(2_147_483_647).default(0),
  })
  .strict();

export type SignatureConfig = z.output<typeof signatureSchema>;
export type SourceHttpConfig = z.output<typeof sourceHttpSchema>;
export type HttpIntakeConfig = z.output<typeof httpIntakeSchema>;

/** The secrets the HTTP sources name must be set when the config is validated at start-up. */
export function httpSecretProblems(raw: unknown, env: NodeJS.ProcessEnv): { path: (string | number)[]; message: string }[] {
  const sources = (raw as { sources?: unknown } | null)?.sources;
  if (!Array.isArray(sources)) return [];
  return sources.flatMap((entry: unknown, i) => {
    const name = (entry as { http?: { signature?: { secretEnv?: unknown } } } | null)?.http?.signature?.secretEnv;
    if (typeof name !== 'string' || name === '') return [];
    const value = env[name];
    return value === undefined || value === '' ? [{ path: ['sources', i, 'http', 'signature', 'secretEnv'], message: `environment variable ${name} is not set` }] : [];
  });
}
