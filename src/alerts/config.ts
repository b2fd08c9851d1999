import { z } from 'zod';
import { durationSchema } from '../domain/duration.ts';

/** The `alerting:` section: how detector and SLO signals become alerts. */
export const alertingSchema = z
  .object({
    /** A problem must keep firing this long (event time) before it counts as firing. */
    pendingFor: durationSchema().default(0),
    /** A resolved problem stays firing this long, so one that flaps back is one alert. */
    keepFiringFor: durationSchema().default(300_000),
    /** Base of trace links in alerts: the web view's address as people reach it. */
    traceUrlBase: z.string().default('http://127.0.0.1:9470/api/v1/traces/'),
  })
  .strict();

export type AlertingConfig = z.output<typeof alertingSchema>;
