import { z } from 'zod';
import type { ReferenceProblem } from '../../base/raw-config.ts';
import { duplicateEffectSchema } from './duplicate-effect.ts';
import { errorClassificationSchema } from './error-class.ts';
import { exclusiveOutcomesSchema } from './exclusive-outcomes.ts';
import { missedDeadlineSchema } from './missed-deadline.ts';
import { partialFailureSchema } from './partial-failure.ts';
import { sourceSilenceSchema } from './source-silence.ts';
import { stuckSchema } from './stuck.ts';

/**
 * The `detectors:` section of the config, meant to sit in the main schema as
 * `detectors: detectorsSchema.prefault({})`. One list per kind of detector; names are unique
 * across all of them, since a signal names its detector.
 */
export const DETECTOR_KINDS = ['duplicateEffects', 'stuck', 'missedDeadlines', 'partialFailures', 'exclusiveOutcomes', 'sourceSilence'] as const;

export const detectorsSchema = z
  .object({
    errors: errorClassificationSchema.prefault({}),
    duplicateEffects: z.array(duplicateEffectSchema).default([]),
    stuck: z.array(stuckSchema).default([]),
    missedDeadlines: z.array(missedDeadlineSchema).default([]),
    partialFailures: z.array(partialFailureSchema).default([]),
    exclusiveOutcomes: z.array(exclusiveOutcomesSchema).default([]),
    sourceSilence: z.array(sourceSilenceSchema).default([]),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    for (const kind of DETECTOR_KINDS) {
      c[kind].forEach((entry, i) => {
        if (seen.has(entry.name)) ctx.addIssue({ code: 'custom', path: [kind, i, 'name'], message: `duplicate detector "${entry.name}"` });
        seen.add(entry.name);
      });
    }
  });

export type DetectorsConfig = z.output<typeof detectorsSchema>;

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const asObject = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
const asString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * What the schema cannot check: the sources, workflows and steps detectors name. Works on the
 * raw input of the whole config, tolerating any shape, like config/references.ts, so that its
 * findings can be reported together with the schema's; paths start at `detectors`.
 */
export function detectorReferenceProblems(raw: unknown): ReferenceProblem[] {
  const config = asObject(raw);
  const detectors = asObject(config['detectors']);
  const problems: ReferenceProblem[] = [];
  const sources = new Set(asArray(config['sources']).map((s) => asString(asObject(s)['name'])).filter((s) => s !== undefined));
  const workflows = new Map(
    asArray(config['workflows'])
      .map((w) => asObject(w))
      .filter((w) => asString(w['name']) !== undefined)
      .map((w) => [w['name'] as string, w]),
  );

  const checkSource = (value: unknown, path: (string | number)[]) => {
    const name = asString(value);
    if (name !== undefined && sources.size > 0 && !sources.has(name)) {
      problems.push({ path: ['detectors', ...path], message: `unknown source "${name}" (known: ${[...sources].join(', ')})` });
    }
  };
  const checkMatchers = (value: unknown, path: (string | number)[]) => {
    if (Array.isArray(value)) value.forEach((m, i) => checkSource(asObject(m)['source'], [...path, i, 'source']));
    else if (value !== undefined) checkSource(asObject(value)['source'], [...path, 'source']);
  };
  const checkWorkflow = (value: unknown, path: (string | number)[]) => {
    const name = asString(value);
    if (name !== undefined && !workflows.has(name)) {
      problems.push({ path: ['detectors', ...path], message: `unknown workflow "${name}" (known: ${[...workflows.keys()].join(', ')})` });
    }
    return name === undefined ? undefined : workflows.get(name);
  };

  for (const kind of DETECTOR_KINDS) {
    asArray(detectors[kind]).forEach((entry, i) => {
      const d = asObject(entry);
      const workflow = checkWorkflow(d['workflow'], [kind, i, 'workflow']);
      if (kind === 'duplicateEffects') checkMatchers(d['match'], [kind, i, 'match']);
      if (kind === 'stuck') for (const key of ['start', 'progress', 'end']) checkMatchers(d[key], [kind, i, key]);
      if (kind === 'exclusiveOutcomes') asArray(d['outcomes']).forEach((o, oi) => checkSource(asObject(o)['source'], [kind, i, 'outcomes', oi, 'source']));
      if (kind === 'sourceSilence') asArray(d['sources']).forEach((s, si) => checkSource(s, [kind, i, 'sources', si]));
      if (kind === 'partialFailures' && workflow) {
        const steps = asArray(workflow['steps']).map((s) => asObject(s));
        const names = steps.map((s) => asString(s['name']));
        const irreversible = asArray(d['irreversible']).map(asString);
        irreversible.forEach((step, si) => {
          if (step !== undefined && !names.includes(step)) {
            problems.push({ path: ['detectors', kind, i, 'irreversible', si], message: `unknown step "${step}" of workflow "${String(d['workflow'])}" (known: ${names.join(', ')})` });
          }
        });
        // Without a step that can report failure besides the irreversible ones, nothing can ever be half done.
        const canFail = steps.some((s) => !irreversible.includes(asString(s['name'])) && asArray(s['failOn']).length > 0);
        if (irreversible.length > 0 && !canFail) {
          problems.push({ path: ['detectors', kind, i, 'irreversible'], message: `no other step of workflow "${String(d['workflow'])}" has failOn events, so nothing can fail after these` });
        }
      }
    });
  }
  return problems;
}
