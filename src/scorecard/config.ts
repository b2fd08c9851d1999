import { Cron } from 'croner';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { durationSchema } from '../domain/duration.ts';

const timeZone = z.string().refine((zone) => IANAZone.isValidZone(zone), { message: 'not an IANA time zone (e.g. Europe/Berlin)' });
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

/**
 * The `scorecard:` section: the weekly reliability email per owning team. Without `smtp` the
 * scorecard is only rendered (CLI --out, the web page); with it, each listed team gets its
 * scorecard on `schedule`, in its own time zone.
 */
export const scorecardSchema = z
  .object({
    /** Cron expression (5 fields) in each team's time zone. Default: Monday 09:00. */
    schedule: z
      .string()
      .default('0 9 * * 1')
      .superRefine((pattern, ctx) => {
        try {
          new Cron(pattern, { paused: true });
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: `not a cron expression: ${error instanceof Error ? error.message : String(error)}` });
        }
      }),
    /** Time zone of teams that do not name their own: the ISO week and the schedule are read in it. */
    timeZone: timeZone.default('UTC'),
    from: z.string().min(1).default('seamwatch <seamwatch@localhost>'),
    smtp: z
      .object({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535).default(587),
        /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
        secure: z.boolean().default(false),
        /** Refuse to send unless the connection is upgraded with STARTTLS. */
        requireTls: z.boolean().default(false),
        user: z.string().min(1).optional(),
        /** The environment variable holding the password (never the file). */
        passwordEnv: envName.default('SEAMWATCH_SMTP_PASSWORD'),
      })
      .strict()
      .optional(),
    teams: z
      .array(
        z
          .object({
            /** The `owner` of workflows and SLOs. */
            team: z.string().min(1),
            to: z.array(z.email()).min(1),
            timeZone: timeZone.optional(),
          })
          .strict(),
      )
      .default([])
      .superRefine((teams, ctx) => {
        const seen = new Set<string>();
        teams.forEach((t, i) => {
          if (seen.has(t.team)) ctx.addIssue({ code: 'custom', path: [i, 'team'], message: `team "${t.team}" is listed twice` });
          seen.add(t.team);
        });
      }),
    /** A claim not marked sent after this long is taken to be from an instance that died: the send is retried. */
    claimLease: durationSchema().default(3_600_000),
    /** How long failed sends are retried (with backoff) before the week is given up until the next start. */
    retryFor: durationSchema().default(1_800_000),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.retryFor >= c.claimLease) ctx.addIssue({ code: 'custom', path: ['retryFor'], message: 'must be shorter than claimLease, or a slow retry could be taken over and sent twice' });
  });

export type ScorecardConfig = z.output<typeof scorecardSchema>;

export function teamTimeZone(config: ScorecardConfig | undefined, team: string): string {
  return config?.teams.find((t) => t.team === team)?.timeZone ?? config?.timeZone ?? 'UTC';
}
