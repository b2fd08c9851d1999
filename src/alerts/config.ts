import { z } from 'zod';
import { durationSchema } from '../domain/duration.ts';
import { DEFAULT_RUN_PRECEDENCE, RUN_DETECTOR_KINDS } from './inhibit/run-precedence.ts';

/** The `alerting:` section: how detector and SLO signals become alerts. */
export const alertingSchema = z
  .object({
    /** A problem must keep firing this long (event time) before it counts as firing. */
    pendingFor: durationSchema().default(0),
    /** A resolved problem stays firing this long, so one that flaps back is one alert. */
    keepFiringFor: durationSchema().default(300_000),
    /**
     * Resolved alerts are forgotten this long after they ended (event time), so memory and the
     * saved state stay bounded over weeks; never before every detector's window and the run
     * horizon have passed (a rebuild from stored input must still find them known), and never
     * while a receiver is still owed their resolve. Two weeks by default: the weekly scorecard
     * reads last week's incidents from the alert state.
     */
    resolvedRetention: durationSchema().default(14 * 86_400_000),
    /**
     * For one run, a firing alert of a detector kind earlier in this list keeps alerts of later
     * kinds about the same run from paging (they are still listed). Default: a partial failure
     * is paged as that, not a second time as a missed deadline. `[]` turns it off.
     */
    runPrecedence: z
      .array(z.enum(RUN_DETECTOR_KINDS, { error: `must be one of ${RUN_DETECTOR_KINDS.join(', ')}` }), { error: 'must be a list of detector kinds' })
      .refine((kinds) => new Set(kinds).size === kinds.length, 'must not name a detector kind twice')
      .default([...DEFAULT_RUN_PRECEDENCE]),
    /** Base of trace links in alerts (PagerDuty links, webhooks, the scorecard): the web view's trace page as people reach it. */
    traceUrlBase: z.string().default('http://127.0.0.1:9470/trace/'),
  })
  .strict();

export type AlertingConfig = z.output<typeof alertingSchema>;
