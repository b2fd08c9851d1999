import { z } from 'zod';
import { sloSchema } from '../slo/config.ts';
import type { SloDefinition } from '../slo/types.ts';
import { parseDuration } from './duration.ts';
import { detectorsSchema } from '../alerts/detectors/config.ts';
import { receiversSchema, type ResolvedReceiver } from '../alerts/receivers/config.ts';
import { routingTreeSchema } from '../alerts/routing/config.ts';
import { inhibitRulesSchema } from '../alerts/inhibit/config.ts';
import { timeIntervalsSchema } from '../alerts/silences/time-interval-config.ts';

/** A duration string ("5m") parsed to milliseconds. */
const duration = z
  .union([z.string(), z.number()], { error: 'not a duration (use e.g. 500ms, 30s, 5m, 4h, 7d)' })
  .transform((value, ctx) => {
    const ms = typeof value === 'number' ? value : parseDuration(value);
    if (ms === undefined || ms < 0) {
      ctx.addIssue({ code: 'custom', message: `not a duration: "${value}" (use e.g. 500ms, 30s, 5m, 4h, 7d)` });
      return z.NEVER;
    }
    return ms;
  });

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lower-case letters, digits, ".", "_" or "-"');

/** Where to read a canonical field from a foreign JSON payload. */
const fieldSource = z.union(
  [z.object({ path: z.string().min(1) }).strict(), z.object({ value: z.string() }).strict()],
  { error: 'must be { path: <field path> } or { value: <constant> }' },
);

const mapping = z
  .object({
    id: fieldSource,
    type: fieldSource,
    correlationid: fieldSource,
    time: fieldSource.and(z.object({ format: z.enum(['iso', 'unix-s', 'unix-ms']).default('iso') })),
    subject: fieldSource.optional(),
    data: z.object({ path: z.string().min(1) }).strict().optional(),
    error: z
      .object({ code: fieldSource.optional(), class: fieldSource.optional(), message: fieldSource.optional() })
      .strict()
      .optional(),
    /** Renames foreign event types to the canonical ones the workflows name. */
    types: z.record(z.string(), z.string()).default({}),
  })
  .strict();

const source = z
  .object({
    name,
    topic: z.string().min(1).optional(),
    format: z.enum(['cloudevents', 'mapped']).default('cloudevents'),
    mapping: mapping.optional(),
    deadLetterTopic: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.format === 'mapped' && !s.mapping) {
      ctx.addIssue({ code: 'custom', path: ['mapping'], message: 'required when format is "mapped"' });
    }
    if (s.format === 'cloudevents' && s.mapping) {
      ctx.addIssue({ code: 'custom', path: ['mapping'], message: 'only allowed when format is "mapped"' });
    }
  })
  .transform((s) => {
    const topic = s.topic ?? `${s.name}.events`;
    return { ...s, topic, deadLetterTopic: s.deadLetterTopic ?? `${topic}.dlq` };
  });

const matcher = z.object({ source: z.string().min(1), type: z.string().min(1) }).strict();

const step = z
  .object({
    name,
    source: z.string().min(1),
    type: z.string().min(1),
    required: z.boolean().default(true),
    /** Event types that report this step as failed (a later success still completes it). */
    failOn: z.array(z.string().min(1)).default([]),
  })
  .strict();

const workflow = z
  .object({
    name,
    owner: z.string().min(1),
    description: z.string().optional(),
    trigger: matcher,
    steps: z.array(step).min(1),
    compensation: z.array(z.object({ name, source: z.string().min(1), type: z.string().min(1) }).strict()).default([]),
    deadline: duration,
  })
  .strict();

export const configSchema = z
  .object({
    sources: z.array(source).min(1),
    workflows: z.array(workflow).default([]),
    /** Business SLOs on the workflows; see src/slo/config.ts. */
    slos: z.array(sloSchema).default([]),
    /** OpenSLO files (paths relative to this file's folder) whose SLO documents are added to `slos`. */
    openslo: z.array(z.string().min(1)).default([]),
    /** Business-alert detectors; see src/alerts/detectors/README.md. */
    detectors: detectorsSchema.prefault({}),
    /** How detector and SLO signals become alerts. */
    alerting: z
      .object({
        /** A problem must keep firing this long (event time) before it counts as firing. */
        pendingFor: duration.default(0),
        /** A resolved problem stays firing this long, so one that flaps back is one alert. */
        keepFiringFor: duration.default(300_000),
        /** Base of trace links in alerts: the web view's address as people reach it. */
        traceUrlBase: z.string().default('http://127.0.0.1:9470/api/v1/traces/'),
      })
      .strict()
      .prefault({}),
    /** Where notifications go: PagerDuty (routing key from the environment) or a webhook. */
    receivers: receiversSchema.default([]),
    /** The routing tree (Alertmanager's `route:`); without it nothing is sent, alerts are only logged. */
    routes: routingTreeSchema.optional(),
    /** Alertmanager's inhibit rules: a firing source alert mutes matching targets. */
    inhibit_rules: inhibitRulesSchema.default([]),
    /** Named recurring maintenance windows that routes mute or activate on. */
    time_intervals: timeIntervalsSchema.default([]),
    kafka: z
      .object({
        brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port')).min(1),
        clientId: z.string().default('seamwatch'),
        groupId: z.string().min(1).default('seamwatch'),
        fromBeginning: z.boolean().default(true),
        sessionTimeout: duration.default(30_000),
      })
      .strict(),
    store: z
      .object({
        kind: z.literal('clickhouse').default('clickhouse'),
        clickhouse: z
          .object({
            // A bare host:port parses as a URL with scheme "host:"; only HTTP reaches ClickHouse.
            url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
            database: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier'),
            username: z.string().default('default'),
            password: z.string().default(''),
            requestTimeout: duration.default(30_000),
          })
          .strict(),
      })
      .strict(),
    pipeline: z
      .object({
        flushRows: z.number().int().positive().default(20_000),
        flushInterval: duration.default(1_000),
        maxBufferedRows: z.number().int().positive().default(200_000),
        dedupeWindow: duration.default(600_000),
        dedupeMaxKeys: z.number().int().positive().default(500_000),
        holdUnmatchedFor: duration.default(3_600_000),
        allowedLateness: duration.default(30_000),
        idleAdvanceAfter: duration.default(30_000),
        closedRunRetention: duration.default(900_000),
        /** A run not finished after this long (event time) is given up: kept as it is, no longer tracked. */
        runHorizon: duration.default(7 * 86_400_000),
        closedRunMemory: z.number().int().positive().default(200_000),
        /** Wall time between SLO evaluation cycles. */
        sloEvaluateEvery: duration.default(10_000),
        /** On stop, how long to wait for the last flush when the store does not answer. */
        finalFlushDeadline: duration.default(15_000),
      })
      .strict()
      .prefault({}),
    http: z
      .object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(9470) })
      .strict()
      .prefault({}),
    /** The HTTP API's write access: silence mutations need `Authorization: Bearer <token>`. */
    api: z
      .object({
        /** The environment variable holding the token (never the file); unset: silences are read-only. */
        tokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').default('SEAMWATCH_API_TOKEN'),
      })
      .strict()
      .prefault({}),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .prefault({}),
  })
  .strict();

/** What the schema checks; `slos` are still entries, before the workflows' defaults are filled in. */
export type ParsedConfig = z.output<typeof configSchema>;
/**
 * The validated configuration: SLOs compiled, from the file and from its OpenSLO documents;
 * receivers' secrets read from the environment.
 */
export type SeamwatchConfig = Omit<ParsedConfig, 'slos' | 'receivers'> & { slos: SloDefinition[]; receivers: ResolvedReceiver[] };
export type WorkflowDefinition = SeamwatchConfig['workflows'][number];
export type SourceConfig = SeamwatchConfig['sources'][number];
export type MappingConfig = NonNullable<SourceConfig['mapping']>;
export type PipelineConfig = SeamwatchConfig['pipeline'];
