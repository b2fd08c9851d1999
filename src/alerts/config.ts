import { z } from 'zod';
import { durationSchema } from '../domain/duration.ts';

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
    /** Base of trace links in alerts (PagerDuty links, webhooks, the scorecard): the web view's trace page as people reach it. */
    traceUrlBase: z.string().default('http://127.0.0.1:9470/trace/'),
  })
  .strict();

export type AlertingConfig = z.output<typeof alertingSchema>;
