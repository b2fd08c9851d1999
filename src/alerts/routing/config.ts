import { z } from 'zod';
import { durationSchema } from '../../domain/duration.ts';
import { LABEL_NAME } from './labels.ts';
import { LabelMatcher, MatcherError } from './matcher.ts';
import { parseMatchers } from './parse-matchers.ts';

/**
 * The routing tree in config, Alertmanager's `route:` with its key names (so a tree can be
 * copied from an Alertmanager config): `routes:` in seamwatch.yaml is the root route.
 *
 *   routes:
 *     receiver: default
 *     group_by: [team, workflow]
 *     routes:
 *       - matchers: ['team="billing"', 'severity=~"critical|error"']
 *         receiver: billing-pager
 *         continue: true
 *
 * Unset fields are inherited from the parent (see tree.ts); receivers and time interval names
 * are checked against the rest of the config in references.ts.
 */

const DURATION_HINT = 'use e.g. 30s, 5m, 4h';

function duration(options: { positive: boolean }) {
  return durationSchema({ ...options, hint: DURATION_HINT });
}

function compileMatchers(texts: readonly string[], ctx: z.RefinementCtx, path: (index: number) => PropertyKey[]): LabelMatcher[] {
  const out: LabelMatcher[] = [];
  texts.forEach((text, i) => {
    try {
      out.push(...parseMatchers(text));
    } catch (error) {
      if (!(error instanceof MatcherError)) throw error;
      ctx.addIssue({ code: 'custom', path: path(i), message: `${error.message} in ${JSON.stringify(text)}` });
    }
  });
  return out;
}

/**
 * `matchers:` as a list of strings (each may hold several, comma-separated) or one string.
 * Exported for inhibit rules, which use the same form.
 */
export const matchersField = z
  .union([z.string(), z.array(z.string())], { error: 'must be a list of matchers like team="billing"' })
  .transform((value, ctx) =>
    typeof value === 'string' ? compileMatchers([value], ctx, () => []) : compileMatchers(value, ctx, (i) => [i]),
  );

/** Label names, for `group_by` and inhibit rules' `equal`: valid and not repeated. */
export const labelNamesField = (options: { allowAll: boolean }) =>
  z.array(z.string(), { error: 'must be a list of label names' }).superRefine((names, ctx) => {
    const seen = new Set<string>();
    names.forEach((name, i) => {
      if (options.allowAll && name === '...') {
        if (names.length > 1) ctx.addIssue({ code: 'custom', path: [i], message: '"..." (every label) cannot be combined with other labels' });
      } else if (!LABEL_NAME.test(name)) {
        ctx.addIssue({ code: 'custom', path: [i], message: `invalid label name "${name}"` });
      } else if (seen.has(name)) {
        ctx.addIssue({ code: 'custom', path: [i], message: `duplicate label "${name}"` });
      }
      seen.add(name);
    });
  });

const intervalNames = z.array(z.string().min(1, 'must not be empty'), { error: 'must be a list of time interval names' });

/** One route as configured; `undefined` means "inherit from the parent". */
export interface RouteSpec {
  receiver?: string | undefined;
  matchers: LabelMatcher[];
  continue: boolean;
  group_by?: string[] | undefined;
  group_wait?: number | undefined;
  group_interval?: number | undefined;
  repeat_interval?: number | undefined;
  mute_time_intervals: string[];
  active_time_intervals: string[];
  routes: RouteSpec[];
}

export const routeSchema: z.ZodType<RouteSpec, unknown> = z
  .object(
    {
      receiver: z.string().min(1, 'must not be empty').optional(),
      matchers: matchersField.default([]),
      continue: z.boolean({ error: 'must be true or false' }).default(false),
      group_by: labelNamesField({ allowAll: true }).optional(),
      group_wait: duration({ positive: false }).optional(),
      group_interval: duration({ positive: true }).optional(),
      repeat_interval: duration({ positive: true }).optional(),
      mute_time_intervals: intervalNames.default([]),
      active_time_intervals: intervalNames.default([]),
      get routes() {
        return z.array(routeSchema, { error: 'must be a list of routes' }).default([]);
      },
    },
    { error: 'must be a route (receiver, matchers, group_by, routes, …)' },
  )
  .strict();

/** Re-raises the issues of a nested parse so they read like the config's own (as slo/config.ts does). */
function forwardIssues(ctx: z.RefinementCtx, issues: readonly z.core.$ZodIssue[]): void {
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) ctx.addIssue({ code: 'custom', path: [...issue.path, key], message: 'unknown key' });
      continue;
    }
    const missing = (issue.code === 'invalid_type' || issue.code === 'invalid_union') && issue.input === undefined;
    ctx.addIssue({ code: 'custom', path: [...issue.path], message: missing ? 'required' : issue.message });
  }
}

/**
 * The root route: it matches every alert and is where defaults come from, so it must name a
 * receiver and cannot carry matchers, `continue` or time intervals (as in Alertmanager). Checked
 * on the raw input beside the route schema, so that every problem is reported at once.
 */
export const routingTreeSchema = z.unknown().transform((raw, ctx): RouteSpec => {
  let rootProblems = 0;
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const root = raw as Record<string, unknown>;
    const problem = (key: string, message: string) => {
      ctx.addIssue({ code: 'custom', path: [key], message });
      rootProblems++;
    };
    if (root['receiver'] === undefined) problem('receiver', 'required on the root route');
    const refuse = (key: string, why: string) => {
      if (root[key] !== undefined) problem(key, `not allowed on the root route (${why})`);
    };
    refuse('matchers', 'it matches every alert');
    refuse('continue', 'it has no siblings');
    refuse('mute_time_intervals', 'mute a child route instead');
    refuse('active_time_intervals', 'put them on a child route instead');
  }
  const parsed = routeSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    forwardIssues(ctx, parsed.error.issues);
    return z.NEVER;
  }
  return rootProblems > 0 ? z.NEVER : parsed.data;
});
