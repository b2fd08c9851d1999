import { z } from 'zod';
import { nameSchema } from '../domain/workflow.ts';

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

/** One system that emits events (`sources:`): its topic, and how its payloads are decoded. */
export const sourceSchema = z
  .object({
    name: nameSchema,
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

export type SourceConfig = z.output<typeof sourceSchema>;
export type MappingConfig = NonNullable<SourceConfig['mapping']>;
