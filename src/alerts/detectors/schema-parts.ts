import { z } from 'zod';
import { parseFieldPath } from '../../domain/field-path.ts';
import { durationSchema } from '../../domain/duration.ts';
import { nameSchema } from '../../domain/workflow.ts';
import type { BusinessKeyField } from './business-key.ts';
import { templatePlaceholders } from './summary-template.ts';

/** Zod pieces every detector's config is made of, with messages that read like the YAML. */

const DURATION_HINT = 'use e.g. 30s, 5m, 4h, 7d';


/** A duration string ("15m") or milliseconds, never zero: a zero window or threshold means nothing. */
export const positiveDuration = durationSchema({ positive: true, hint: DURATION_HINT });
/** A duration that may be zero ("0s"), for delays. */
export const nonNegativeDuration = durationSchema({ hint: DURATION_HINT });

export const detectorName = nameSchema;

export const severity = z.enum(['critical', 'error', 'warning', 'info'], {
  error: 'must be one of critical, error, warning, info',
});

export const eventMatcher = z.object({ source: z.string().min(1), type: z.string().min(1) }).strict();

/** One `{ source, type }` or a list of them. */
export const eventMatchers = z
  .union([eventMatcher, z.array(eventMatcher).min(1)], { error: 'must be { source, type } or a list of them' })
  .transform((value) => (Array.isArray(value) ? value : [value]));

/** How many keys a detector may hold; the oldest is forgotten past it (and counted). */
export const maxKeys = z.number().int().positive();

/**
 * Business key fields read from `event.data`: a list of field paths (each named by its own
 * text in summaries) or a map of name → field path.
 */
export const businessKey = z
  .union([z.array(z.string().min(1)).min(1), z.record(z.string().min(1), z.string().min(1))], {
    error: 'must be a list of field paths or a map of name: field path',
  })
  .transform((value, ctx): BusinessKeyField[] => {
    const entries: [string | number, string, string][] = Array.isArray(value)
      ? value.map((text, i) => [i, text, text])
      : Object.entries(value).map(([name, text]) => [name, name, text]);
    if (entries.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'must name at least one field' });
      return z.NEVER;
    }
    const fields: BusinessKeyField[] = [];
    for (const [at, name, text] of entries) {
      try {
        fields.push({ name, path: parseFieldPath(text) });
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: [at], message: (error as Error).message });
      }
    }
    return fields.length === entries.length ? fields : z.NEVER;
  });

/** Reports placeholders of a summary template that are not among `known`, at the `summary` key. */
export function checkTemplate(template: string | undefined, known: readonly string[], ctx: z.RefinementCtx): void {
  if (template === undefined) return;
  for (const name of templatePlaceholders(template)) {
    if (!known.includes(name)) {
      ctx.addIssue({ code: 'custom', path: ['summary'], message: `unknown placeholder {${name}} (known: ${known.map((k) => `{${k}}`).join(', ')})` });
    }
  }
}

/**
 * `owner` may be left out when the detector names a workflow, whose owner it then takes
 * (resolved in build.ts, where the workflows are known).
 */
export const optionalOwner = z.string().min(1).optional();

export function requireOwnerWithoutWorkflow(c: { owner?: string | undefined; workflow?: string | undefined }, ctx: z.RefinementCtx): void {
  if (c.owner === undefined && c.workflow === undefined) ctx.addIssue({ code: 'custom', path: ['owner'], message: 'required when no workflow is named (a workflow lends its owner)' });
}

/** A detector's config once its owner is known. */
export type WithOwner<T> = T & { owner: string };

/** A detector config whose owner is given in it (tests, and configs that name one). */
export function ownedBy<C extends { owner?: string | undefined }>(config: C): WithOwner<C> {
  if (config.owner === undefined) throw new Error('the detector names no owner');
  return config as WithOwner<C>;
}
