import { z } from 'zod';
import { durationSchema } from './duration.ts';

/** Names of workflows, steps, SLOs and detectors: what a metric label or a URL can carry. */
export const nameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lower-case letters, digits, ".", "_" or "-"');

const matcher = z.object({ source: z.string().min(1), type: z.string().min(1) }).strict();

const step = z
  .object({
    name: nameSchema,
    source: z.string().min(1),
    type: z.string().min(1),
    required: z.boolean().default(true),
    /** Event types that report this step as failed (a later success still completes it). */
    failOn: z.array(z.string().min(1)).default([]),
  })
  .strict();

/**
 * A workflow definition: the trigger that starts a run, its steps across systems, compensation
 * steps, the deadline and the owning team. The `workflows:` section is a list of these.
 */
export const workflowSchema = z
  .object({
    name: nameSchema,
    owner: z.string().min(1),
    description: z.string().optional(),
    trigger: matcher,
    steps: z.array(step).min(1),
    compensation: z.array(z.object({ name: nameSchema, source: z.string().min(1), type: z.string().min(1) }).strict()).default([]),
    deadline: durationSchema(),
  })
  .strict();

export type WorkflowDefinition = z.output<typeof workflowSchema>;
export type StepDefinition = WorkflowDefinition['steps'][number];
