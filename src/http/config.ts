import { z } from 'zod';

/** The `http:` section: where /metrics, the API and the web view listen. */
export const httpSchema = z
  .object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(9470) })
  .strict();

/** The `api:` section: the HTTP API's access (silence mutations, and reads when `protectReads`, need `Authorization: Bearer <token>`). */
export const apiSchema = z
  .object({
    /** The environment variable holding the token (never the file); unset: silences are read-only. */
    tokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').default('SEAMWATCH_API_TOKEN'),
    /** Every /api/v1 read (and the scorecard pages) needs the token too; /metrics, /healthz, /readyz stay open. */
    protectReads: z.boolean().default(false),
  })
  .strict();
