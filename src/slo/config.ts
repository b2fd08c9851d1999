import { asArray, asObject, asString } from '../base/raw-config.ts';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { nameSchema } from '../domain/workflow.ts';
import { durationSchema, formatDuration, parseDuration } from '../domain/duration.ts';
import type { WorkflowDefinition } from '../domain/workflow.ts';
import { burnRateFactor, defaultTiers } from './burn-rate.ts';
import type { BurnRateTier, Indicator, SloDefinition, SloWindow } from './types.ts';
import { periodMs } from './window.ts';

/**
 * The `slos:` section of the config: one schema per entry (shapes and values), cross-checks
 * on the raw input (names, workflows, steps, windows against each other), and the step that
 * compiles a checked entry into an SloDefinition. OpenSLO documents are translated into the
 * same entry shape (openslo.ts), so both go through the same checks.
 */

const MINUTE = 60_000;
const DURATION_HINT = 'use e.g. 30s, 5m, 4h, 28d';
const CALENDAR_UNITS = ['week', 'month', 'quarter'] as const;

const name = nameSchema;

/** Durations as in the rest of the config, but never zero: a zero window or threshold means nothing. */
const positiveDuration = durationSchema({ positive: true, hint: DURATION_HINT });

/** A percentage as a ratio; toPrecision drops the binary noise of the division (99.9 / 100 is 0.9990000000000001). */
const fromPercent = (percent: number) => Number((percent / 100).toPrecision(15));

/** "99.9%" or 0.999 as a ratio; undefined when the text is neither. */
function parseRatio(value: string | number): number | undefined {
  if (typeof value === 'number') return value;
  const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(value.trim());
  return percent ? fromPercent(Number(percent[1])) : undefined;
}

const objective = z
  .union([z.string(), z.number()], { error: 'must be a percentage like 99.9% or a ratio like 0.999' })
  .transform((value, ctx) => {
    const ratio = parseRatio(value);
    const fail = (message: string) => {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    };
    if (ratio === undefined || !Number.isFinite(ratio)) return fail(`not an objective: "${value}" (use e.g. 99.9% or 0.999)`);
    if (ratio === 1) return fail('100% leaves no error budget (use e.g. 99.9%)');
    if (ratio > 1 && typeof value === 'number' && value < 100) return fail(`${value} is not a ratio below 1 (write ${value}% or ${fromPercent(value)})`);
    if (ratio > 1) return fail('must be below 100%');
    if (ratio <= 0) return fail('must be more than 0%');
    return ratio;
  });

const budgetShare = z
  .union([z.string(), z.number()], { error: 'must be a percentage like 2% or a ratio like 0.02' })
  .transform((value, ctx) => {
    const ratio = parseRatio(value);
    const fail = (message: string) => {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    };
    if (ratio === undefined || !Number.isFinite(ratio)) return fail(`not a share of the budget: "${value}" (use e.g. 2% or 0.02)`);
    if (ratio > 1 && typeof value === 'number' && value <= 100) return fail(`${value} is more than the whole budget (write ${value}% or ${fromPercent(value)})`);
    if (ratio > 1) return fail('must be at most 100%');
    if (ratio <= 0) return fail('must be more than 0%');
    return ratio;
  });

const calendarWindow = z
  .object({
    calendar: z.enum(CALENDAR_UNITS),
    timeZone: z
      .string()
      .refine((zone) => IANAZone.isValidZone(zone), { error: (issue) => `unknown time zone "${String(issue.input)}" (use an IANA name such as Europe/Berlin, or UTC)` })
      .default('UTC'),
  })
  .strict();

/** Re-raises the issues of a nested parse as plain messages that read like the config's own. */
function forwardIssues(ctx: z.RefinementCtx, issues: readonly z.core.$ZodIssue[]): void {
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) ctx.addIssue({ code: 'custom', path: [...issue.path, key], message: 'unknown key' });
      continue;
    }
    const missing = (issue.code === 'invalid_type' || issue.code === 'invalid_value') && issue.input === undefined;
    ctx.addIssue({ code: 'custom', path: [...issue.path], message: missing ? 'required' : issue.message });
  }
}

/** `28d` (rolling) or `{ calendar: month, timeZone: Europe/Berlin }`. */
const window = z
  .union([z.string(), z.number(), z.record(z.string(), z.unknown())], {
    error: 'must be a duration like 28d or { calendar: week | month | quarter, timeZone: <IANA zone> }',
  })
  .transform((value, ctx): SloWindow => {
    if (typeof value !== 'object') {
      const parsed = positiveDuration.safeParse(value);
      if (parsed.success) return { kind: 'rolling', durationMs: parsed.data };
      forwardIssues(ctx, parsed.error.issues);
      return z.NEVER;
    }
    const parsed = calendarWindow.safeParse(value, { reportInput: true });
    if (parsed.success) return { kind: 'calendar', unit: parsed.data.calendar, timeZone: parsed.data.timeZone };
    forwardIssues(ctx, parsed.error.issues);
    return z.NEVER;
  });

const INDICATOR_KINDS = ['completed-within', 'success-ratio', 'step-latency'] as const;

/** What the config says; `steps` undefined means the workflow's required steps. */
export type IndicatorSpec =
  | { kind: 'completed-within'; thresholdMs: number; steps: string[] | undefined }
  | { kind: 'success-ratio' }
  | { kind: 'step-latency'; from: string; to: string; thresholdMs: number };

const indicator = z
  .object(
    {
      'completed-within': positiveDuration.optional(),
      steps: z.array(z.string().min(1)).min(1).optional(),
      'success-ratio': z.object({}).strict().nullable().optional(),
      'step-latency': positiveDuration.optional(),
      from: z.string().min(1).optional(),
      to: z.string().min(1).optional(),
    },
    { error: 'must be { completed-within: <duration> }, { success-ratio: {} } or { step-latency: <duration>, from: <step>, to: <step> }' },
  )
  .strict()
  .superRefine((i, ctx) => {
    const kinds = INDICATOR_KINDS.filter((k) => i[k] !== undefined);
    if (kinds.length === 0) ctx.addIssue({ code: 'custom', message: `must name one of ${INDICATOR_KINDS.join(', ')}` });
    if (kinds.length > 1) ctx.addIssue({ code: 'custom', message: `has ${kinds.join(' and ')}: give one indicator per SLO` });
    if (i.steps !== undefined && i['completed-within'] === undefined) ctx.addIssue({ code: 'custom', path: ['steps'], message: 'only allowed with completed-within' });
    for (const key of ['from', 'to'] as const) {
      if (i['step-latency'] !== undefined && i[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'required with step-latency' });
      if (i['step-latency'] === undefined && i[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'only allowed with step-latency' });
    }
    if (i.from !== undefined && i.from === i.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be another step than from' });
  })
  .transform((i): IndicatorSpec => {
    if (i['completed-within'] !== undefined) return { kind: 'completed-within', thresholdMs: i['completed-within'], steps: i.steps };
    if (i['step-latency'] !== undefined) return { kind: 'step-latency', thresholdMs: i['step-latency'], from: i.from!, to: i.to! };
    return { kind: 'success-ratio' };
  });

const tier = z
  .object({
    name,
    severity: z.enum(['page', 'ticket']),
    longWindow: positiveDuration,
    shortWindow: positiveDuration,
    /** Share of the whole budget burnt within the long window at the tier's factor. */
    budgetConsumed: budgetShare,
  })
  .strict();

export const sloSchema = z
  .object({
    name,
    workflow: z.string().min(1),
    objective,
    window,
    indicator,
    /** Default: the workflow's owner. */
    owner: z.string().min(1).optional(),
    description: z.string().optional(),
    alerting: z
      .object({
        minEvents: z.number().int().nonnegative().default(20),
        /** Default: defaultTiers(period). */
        tiers: z.array(tier).optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** One `slos:` entry as checked by the schema, before the workflow's defaults are filled in. */
export type SloSpec = z.output<typeof sloSchema>;

/** Fills in the workflow's defaults (owner, required steps) and the tiers' factors. */
export function compileSlo(spec: SloSpec, workflow: Pick<WorkflowDefinition, 'owner' | 'steps'>, origin: string): SloDefinition {
  const period = periodMs(spec.window);
  const tiers: BurnRateTier[] =
    spec.alerting.tiers?.map((t) => ({
      name: t.name,
      severity: t.severity,
      longWindowMs: t.longWindow,
      shortWindowMs: t.shortWindow,
      budgetConsumed: t.budgetConsumed,
      factor: burnRateFactor(t.budgetConsumed, period, t.longWindow),
    })) ?? defaultTiers(period);
  const i = spec.indicator;
  const compiled: Indicator =
    i.kind === 'completed-within' ? { ...i, steps: i.steps ?? workflow.steps.filter((s) => s.required).map((s) => s.name) } : i;
  return {
    name: spec.name,
    workflow: spec.workflow,
    owner: spec.owner ?? workflow.owner,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    objective: spec.objective,
    window: spec.window,
    indicator: compiled,
    alerting: { tiers, minEvents: spec.alerting.minEvents },
    origin,
  };
}

// ---- Cross-checks, on raw input of any shape, so they are reported together with the schema's.

export interface SloProblem {
  /** Index of the SLO in the list given. */
  index: number;
  /** Key path inside that SLO entry. */
  path: (string | number)[];
  message: string;
}


/** A raw duration in ms with the text to name it by (as written); undefined when the schema will refuse it. */
function rawDuration(value: unknown): { ms: number; text: string } | undefined {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? parseDuration(value) : undefined;
  if (ms === undefined || ms <= 0) return undefined;
  return { ms, text: typeof value === 'string' ? value.trim() : formatDuration(ms) };
}

/** The period of a raw window, with how to name it in a message; undefined when the schema will refuse it. */
function rawPeriod(value: unknown): { ms: number; text: string } | undefined {
  const rolling = rawDuration(value);
  if (rolling !== undefined) return rolling;
  const unit = asObject(value)['calendar'];
  if (!CALENDAR_UNITS.includes(unit as (typeof CALENDAR_UNITS)[number])) return undefined;
  const ms = periodMs({ kind: 'calendar', unit: unit as (typeof CALENDAR_UNITS)[number], timeZone: 'UTC' });
  return { ms, text: `${formatDuration(ms)} for a calendar ${String(unit)}` };
}

/**
 * What the schema cannot see: SLO names unique (also against `takenNames`, which collects the
 * names seen), the workflow and its steps known, tier names unique, tier windows whole minutes
 * (runs are counted per minute), shorter than each other and than the SLO period.
 */
export function sloReferenceProblems(slos: readonly unknown[], workflows: unknown, takenNames: Set<string> = new Set()): SloProblem[] {
  const problems: SloProblem[] = [];
  const stepsOf = new Map<string, string[]>();
  for (const w of asArray(workflows)) {
    const workflowName = asString(asObject(w)['name']);
    if (workflowName !== undefined && !stepsOf.has(workflowName)) {
      stepsOf.set(workflowName, asArray(asObject(w)['steps']).flatMap((s) => asString(asObject(s)['name']) ?? []));
    }
  }
  slos.forEach((entry, index) => {
    const add = (path: (string | number)[], message: string) => problems.push({ index, path, message });
    const slo = asObject(entry);
    const sloName = asString(slo['name']);
    if (sloName !== undefined) {
      if (takenNames.has(sloName)) add(['name'], `duplicate SLO "${sloName}"`);
      takenNames.add(sloName);
    }

    const workflow = asString(slo['workflow']);
    const steps = workflow === undefined ? undefined : stepsOf.get(workflow);
    if (workflow !== undefined && workflow !== '' && steps === undefined) {
      const known = stepsOf.size > 0 ? `known: ${[...stepsOf.keys()].join(', ')}` : 'no workflows are configured';
      add(['workflow'], `unknown workflow "${workflow}" (${known})`);
    }
    const indicatorRaw = asObject(slo['indicator']);
    const checkStep = (value: unknown, path: (string | number)[]) => {
      const step = asString(value);
      if (step !== undefined && steps !== undefined && !steps.includes(step)) {
        add(path, `unknown step "${step}" (steps of ${workflow}: ${steps.join(', ')})`);
      }
    };
    const listed = new Set<string>();
    asArray(indicatorRaw['steps']).forEach((step, si) => {
      checkStep(step, ['indicator', 'steps', si]);
      const text = asString(step);
      if (text !== undefined && listed.has(text)) add(['indicator', 'steps', si], `duplicate step "${text}"`);
      if (text !== undefined) listed.add(text);
    });
    checkStep(indicatorRaw['from'], ['indicator', 'from']);
    checkStep(indicatorRaw['to'], ['indicator', 'to']);

    const period = rawPeriod(slo['window']);
    const tierNames = new Set<string>();
    asArray(asObject(slo['alerting'])['tiers']).forEach((tierEntry, ti) => {
      const at = ['alerting', 'tiers', ti];
      const t = asObject(tierEntry);
      const tierName = asString(t['name']);
      if (tierName !== undefined && tierNames.has(tierName)) add([...at, 'name'], `duplicate tier "${tierName}"`);
      if (tierName !== undefined) tierNames.add(tierName);
      const long = rawDuration(t['longWindow']);
      const short = rawDuration(t['shortWindow']);
      for (const [key, d] of [['longWindow', long], ['shortWindow', short]] as const) {
        if (d !== undefined && d.ms % MINUTE !== 0) add([...at, key], `must be whole minutes, as runs are counted per minute (not ${d.text})`);
      }
      if (long !== undefined && short !== undefined && short.ms >= long.ms) add([...at, 'shortWindow'], `must be shorter than longWindow (${long.text})`);
      if (long !== undefined && period !== undefined && long.ms > period.ms) add([...at, 'longWindow'], `must not be longer than the SLO period (${period.text})`);
    });
  });
  return problems;
}
