import { z } from 'zod';

/** The `http:` section: where /metrics, the API and the web view listen. */
export const httpSchema = z
  .object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(9470) })
  .strict();

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

/**
 * The `api:` section: the HTTP API's write access (silences and the operator's controls need
 * `Authorization: Bearer <token>`, and so do reads when `protectReads`). One unnamed token (`tokenEnv`, shown as "api-token" in the
 * audit) and any number of named ones, each from its own environment variable.
 */
export const apiSchema = z
  .object({
    /** The environment variable holding the token (never the file); unset: the API is read-only unless `tokens` has one. */
    tokenEnv: envName.default('SEAMWATCH_API_TOKEN'),
    /** Named tokens: the name is who the audit says acted. */
    tokens: z
      .array(z.object({ name: z.string().min(1).max(100).regex(/^[^\s]+$/, 'no spaces'), env: envName }).strict())
      .default([])
      .superRefine((tokens, ctx) => {
        const seen = new Set<string>();
        tokens.forEach((t, i) => {
          if (t.name === 'api-token') ctx.addIssue({ code: 'custom', path: [i, 'name'], message: '"api-token" is the name of the tokenEnv token: pick another' });
          if (seen.has(t.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${t.name}" is already the name of another token` });
          seen.add(t.name);
        });
      }),
    /** Every /api/v1 read (and the scorecard pages) needs a token too; /metrics, /healthz, /readyz stay open. */
    protectReads: z.boolean().default(false),
  })
  .strict();

export type ApiConfig = z.output<typeof apiSchema>;

/** A token the API accepts, with the name the audit records for it. */
export interface NamedToken {
  name: string;
  value: string;
}

/** The name the unnamed `tokenEnv` token acts under. */
export const DEFAULT_TOKEN_NAME = 'api-token';

/** The tokens whose variables are set; the names of the ones that are not (to warn about). */
export function resolveTokens(api: ApiConfig, env: NodeJS.ProcessEnv): { tokens: NamedToken[]; unset: string[] } {
  const wanted = [{ name: DEFAULT_TOKEN_NAME, env: api.tokenEnv }, ...api.tokens];
  const tokens = wanted.flatMap((t) => (env[t.env] ? [{ name: t.name, value: env[t.env]! }] : []));
  const unset = api.tokens.filter((t) => !env[t.env]).map((t) => `${t.name} (${t.env})`);
  return { tokens, unset };
}
