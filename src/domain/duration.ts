import { z } from 'zod';

/** Durations in config are strings like "500ms", "30s", "5m", "4h", "35d", "1w". */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;

/** Parses a duration string to milliseconds; returns undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]) * UNIT_MS[match[2]!]!;
  return Number.isFinite(value) ? Math.round(value) : undefined;
}

/** Formats milliseconds back to the largest whole unit, for messages and the web view. */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit]!;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * A config duration ("5m", or milliseconds) parsed to milliseconds, for every section's schema.
 * `hint` is the examples the messages give; `positive` refuses zero (a zero window means nothing).
 */
export function durationSchema(options: { positive?: boolean; hint?: string } = {}) {
  const hint = options.hint ?? 'use e.g. 500ms, 30s, 5m, 4h, 7d';
  return z.union([z.string(), z.number()], { error: `not a duration (${hint})` }).transform((value, ctx) => {
    const ms = typeof value === 'number' ? value : parseDuration(value);
    if (ms === undefined || ms < 0 || !Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: `not a duration: "${value}" (${hint})` });
      return z.NEVER;
    }
    if (options.positive && ms === 0) {
      ctx.addIssue({ code: 'custom', message: 'must be longer than 0' });
      return z.NEVER;
    }
    return ms;
  });
}
