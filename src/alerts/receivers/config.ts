import { z } from 'zod';
import { DEFAULT_STORM, type StormOptions } from '../notify/storm.ts';

/**
 * `receivers:` in config: where notifications go. Secrets never sit in the file: a PagerDuty
 * receiver names the environment variable holding its routing key, which is read (and must be
 * set) when the config is validated at start-up.
 *
 *   receivers:
 *     - name: billing-pager
 *       pagerduty: { routingKeyEnv: SEAMWATCH_PD_KEY_BILLING }
 *     - name: support-hook
 *       webhook: { url: "http://alert-relay:8080/seamwatch" }
 */

const receiverName = z
  .string({ error: 'must be a receiver name' })
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lower-case letters, digits, ".", "_" or "-"');

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

/**
 * `storm`: from `threshold` firing alerts of one detector and workflow in one aggregation group,
 * PagerDuty gets one incident for them (notify/storm.ts); `false` turns it off.
 */
const storm = z.union(
  [
    z.literal(false),
    z
      .object({
        threshold: z.number({ error: 'must be a whole number of alerts, at least 2' }).int('must be a whole number of alerts, at least 2').min(2, 'must be a whole number of alerts, at least 2').default(DEFAULT_STORM.threshold),
        examples: z.number({ error: 'must be a whole number from 1 to 20' }).int('must be a whole number from 1 to 20').min(1, 'must be a whole number from 1 to 20').max(20, 'must be a whole number from 1 to 20').default(DEFAULT_STORM.examples),
      })
      .strict(),
  ],
  { error: 'must be { threshold, examples } or false' },
);

const pagerduty = z
  .object({
    /** The environment variable holding the team's Events API v2 integration key. */
    routingKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'),
    /** The Events API v2 endpoint; PagerDuty's by default (tests point it at a local server). */
    url: httpUrl.optional(),
    storm: storm.default({ ...DEFAULT_STORM }),
  })
  .strict();

const webhook = z.object({ url: httpUrl }).strict();

export const receiverSchema = z.union(
  [
    z.object({ name: receiverName, pagerduty }).strict(),
    z.object({ name: receiverName, webhook }).strict(),
  ],
  { error: 'must be { name, pagerduty: { routingKeyEnv } } or { name, webhook: { url } }' },
);

/**
 * One PagerDuty notifier (one queue, one set of metrics) serves every PagerDuty receiver, the
 * routing key going with each event; so they share one endpoint.
 */
export const receiversSchema = z.array(receiverSchema, { error: 'must be a list of receivers' }).superRefine((receivers, ctx) => {
  let first: string | undefined;
  receivers.forEach((r, i) => {
    if (!('pagerduty' in r)) return;
    const url = r.pagerduty.url ?? '';
    first ??= url;
    if (url !== first) ctx.addIssue({ code: 'custom', path: [i, 'pagerduty', 'url'], message: `every PagerDuty receiver must use the same url (one notifier serves them all; the first has ${first ? `"${first}"` : "PagerDuty's"})` });
  });
});

export type ReceiverConfig = z.output<typeof receiverSchema>;
export type PagerDutyReceiverConfig = Extract<ReceiverConfig, { pagerduty: unknown }>;
export type WebhookReceiverConfig = Extract<ReceiverConfig, { webhook: unknown }>;

/** A receiver with its secret read from the environment: what the app builds receivers from. */
export type ResolvedReceiver = WebhookReceiverConfig | (PagerDutyReceiverConfig & { pagerduty: { routingKey: string } });

/**
 * Environment variables that receivers name but that are not set. Works on the raw config,
 * tolerating any shape, so these are reported together with every other problem.
 */
export function receiverSecretProblems(raw: unknown, env: NodeJS.ProcessEnv): { path: (string | number)[]; message: string }[] {
  const receivers = (raw as { receivers?: unknown } | null)?.receivers;
  if (!Array.isArray(receivers)) return [];
  return receivers.flatMap((entry: unknown, i) => {
    const name = (entry as { pagerduty?: { routingKeyEnv?: unknown } } | null)?.pagerduty?.routingKeyEnv;
    if (typeof name !== 'string' || name === '') return [];
    const value = env[name];
    return value === undefined || value === '' ? [{ path: ['receivers', i, 'pagerduty', 'routingKeyEnv'], message: `environment variable ${name} is not set` }] : [];
  });
}

/** Reads each PagerDuty receiver's routing key; only called once receiverSecretProblems found none. */
export function resolveReceivers(receivers: readonly ReceiverConfig[], env: NodeJS.ProcessEnv): ResolvedReceiver[] {
  return receivers.map((r) => ('pagerduty' in r ? { ...r, pagerduty: { ...r.pagerduty, routingKey: env[r.pagerduty.routingKeyEnv]! } } : r));
}

/** The receivers whose notifications turn storms into one incident, with their options. */
export function stormOptions(receivers: readonly ReceiverConfig[]): Map<string, StormOptions> {
  return new Map(receivers.flatMap((r) => ('pagerduty' in r && r.pagerduty.storm !== false ? [[r.name, r.pagerduty.storm] as const] : [])));
}
