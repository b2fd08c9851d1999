import { z } from 'zod';
import { parseFieldPath } from '../domain/field-path.ts';
import { nameSchema } from '../domain/workflow.ts';
import { sourceHttpSchema } from './http/config.ts';

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

/** A field path into each event, checked when the config is read. */
const errorPath = z.string({ error: 'must be a field path, e.g. data.error.class' }).superRefine((text, ctx) => {
  try {
    parseFieldPath(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

/**
 * `errors:` on any source: where its events carry error details, by field path — into the
 * CloudEvent as JSON (`data.error.class`; the extension attributes errorcode/errorclass/
 * errormessage win when present) or into a mapped source's payload (as `mapping` paths).
 * `detectors.errors.rules` match on what they read.
 */
const errorPaths = z.object({ code: errorPath.optional(), class: errorPath.optional(), message: errorPath.optional() }).strict();

/** One system that emits events (`sources:`): its topic or HTTP path, and how its payloads are decoded. */
export const sourceSchema = z
  .object({
    name: nameSchema,
    /** How its events arrive: read from a Kafka topic (default), or posted to seamwatch's HTTP intake. */
    transport: z.enum(['kafka', 'http']).default('kafka'),
    topic: z.string().min(1).optional(),
    format: z.enum(['cloudevents', 'mapped']).default('cloudevents'),
    mapping: mapping.optional(),
    errors: errorPaths.optional(),
    deadLetterTopic: z.string().min(1).optional(),
    /** Only with `transport: http`: the path it posts to, and how its webhooks are signed. */
    http: sourceHttpSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.transport === 'http') {
      for (const key of ['topic', 'deadLetterTopic'] as const) {
        if (s[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'only allowed when transport is "kafka" (HTTP dead letters go to the store)' });
      }
    } else if (s.http) {
      ctx.addIssue({ code: 'custom', path: ['http'], message: 'only allowed when transport is "http"' });
    }
    if (s.format === 'mapped' && !s.mapping) {
      ctx.addIssue({ code: 'custom', path: ['mapping'], message: 'required when format is "mapped"' });
    }
    if (s.format === 'cloudevents' && s.mapping) {
      ctx.addIssue({ code: 'custom', path: ['mapping'], message: 'only allowed when format is "mapped"' });
    }
  })
  .transform((s) => {
    if (s.transport === 'http') {
      // An HTTP source's deliveries are named like a topic, so that dead letters, stored events
      // and metrics say where they came from; the name cannot clash with a Kafka topic's.
      const topic = httpTopic(s.name);
      return { ...s, topic, deadLetterTopic: '', http: { path: s.http?.path ?? `/ingest/${s.name}`, ...(s.http?.signature ? { signature: s.http.signature } : {}) } };
    }
    const topic = s.topic ?? `${s.name}.events`;
    return { ...s, topic, deadLetterTopic: s.deadLetterTopic ?? `${topic}.dlq` };
  });

/** The topic name an HTTP source's deliveries carry in their origin (':' is not allowed in Kafka topic names). */
export function httpTopic(source: string): string {
  return `http:${source}`;
}

export type SourceConfig = z.output<typeof sourceSchema>;
export type MappingConfig = NonNullable<SourceConfig['mapping']>;
