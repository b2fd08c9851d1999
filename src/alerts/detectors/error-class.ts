import { z } from 'zod';
import type { EventError } from '../../domain/event.ts';

/**
 * Whether an error an automation reported will heal on retry. A transient failure (429, 5xx,
 * a timeout) followed by success is not a problem for anyone; a permanent one (validation,
 * auth, a declined card) will not heal by itself. Detectors that look at failures only alert
 * on permanent ones; a transient failure shows only through its consequence (a missed
 * deadline, SLO burn).
 */
export type ErrorKind = 'transient' | 'permanent' | 'unknown';

export interface ErrorRule {
  /** Pattern on `error.code`: exact ("429"), digit wildcards ("5xx"), globs ("*timeout*"); case-insensitive. */
  code?: string;
  /** Pattern on `error.class`, the same way. */
  class?: string;
  is: 'transient' | 'permanent';
}

/** The built-in rules, tried after the configured ones; the first rule that matches decides. */
export const DEFAULT_ERROR_RULES: readonly ErrorRule[] = [
  // Transient first: 408 and 429 are 4xx codes that heal.
  { code: '408', is: 'transient' },
  { code: '425', is: 'transient' },
  { code: '429', is: 'transient' },
  { code: '5xx', is: 'transient' },
  { code: 'E*TIMEDOUT', is: 'transient' },
  { code: 'ECONNRESET', is: 'transient' },
  { code: 'ECONNREFUSED', is: 'transient' },
  { code: 'ECONNABORTED', is: 'transient' },
  { code: 'EPIPE', is: 'transient' },
  { code: 'EAI_AGAIN', is: 'transient' },
  { code: '*timeout*', is: 'transient' },
  { code: '*rate_limit*', is: 'transient' },
  { code: '*throttl*', is: 'transient' },
  { class: '*timeout*', is: 'transient' },
  { class: '*timed_out*', is: 'transient' },
  { class: '*timedout*', is: 'transient' },
  { class: '*rate_limit*', is: 'transient' },
  { class: '*ratelimit*', is: 'transient' },
  { class: '*throttl*', is: 'transient' },
  { class: '*unavailable*', is: 'transient' },
  { class: '*connection*', is: 'transient' },
  { class: 'network*', is: 'transient' },
  { class: 'transient*', is: 'transient' },
  { class: 'retryable*', is: 'transient' },
  { code: '4xx', is: 'permanent' },
  { code: '*invalid*', is: 'permanent' },
  { code: '*declined*', is: 'permanent' },
  { class: 'validation*', is: 'permanent' },
  { class: '*invalid*', is: 'permanent' },
  { class: 'auth*', is: 'permanent' },
  { class: '*unauthori*', is: 'permanent' },
  { class: '*forbidden*', is: 'permanent' },
  { class: 'permission*', is: 'permanent' },
  { class: '*not_found*', is: 'permanent' },
  { class: '*declined*', is: 'permanent' },
  { class: 'permanent*', is: 'permanent' },
];

const rule = z
  .object({
    code: z.string().min(1).optional(),
    class: z.string().min(1).optional(),
    is: z.enum(['transient', 'permanent'], { error: 'must be transient or permanent' }),
  })
  .strict()
  .refine((r) => r.code !== undefined || r.class !== undefined, { message: 'needs code or class (or both)' });

/** `detectors.errors`: rules tried in order before the built-in ones (`defaults: false` drops those). */
export const errorClassificationSchema = z
  .object({
    rules: z.array(rule).default([]),
    defaults: z.boolean().default(true),
  })
  .strict();

export type ErrorClassificationConfig = z.output<typeof errorClassificationSchema>;
export type Classifier = (error: EventError | undefined) => ErrorKind;

/** "5xx" → digits; "*" → anything; everything else literal; the whole text, any case. */
function compilePattern(pattern: string): RegExp {
  const digitWildcards = /^[0-9xX]+$/.test(pattern) && /[0-9]/.test(pattern);
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += '.*';
    else if (digitWildcards && (ch === 'x' || ch === 'X')) source += '\\d';
    else source += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'i');
}

export function compileClassifier(config: ErrorClassificationConfig = { rules: [], defaults: true }): Classifier {
  const rules = [...config.rules, ...(config.defaults ? DEFAULT_ERROR_RULES : [])].map((r) => ({
    code: r.code === undefined ? undefined : compilePattern(r.code),
    class: r.class === undefined ? undefined : compilePattern(r.class),
    is: r.is,
  }));
  return (error) => {
    if (!error) return 'unknown';
    const code = error.code?.trim();
    const cls = error.class?.trim();
    for (const r of rules) {
      if (r.code && (code === undefined || code === '' || !r.code.test(code))) continue;
      if (r.class && (cls === undefined || cls === '' || !r.class.test(cls))) continue;
      return r.is;
    }
    return 'unknown';
  };
}

/** The classifier with the built-in rules only. */
export const classify: Classifier = compileClassifier();
