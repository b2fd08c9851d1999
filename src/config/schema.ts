import { z } from 'zod';
import { workflowSchema } from '../domain/workflow.ts';
import { sourceSchema } from '../collectors/config.ts';
import { kafkaSchema } from '../collectors/kafka/config.ts';
import { httpIntakeSchema } from '../collectors/http/config.ts';
import { storeSchema } from '../store/config.ts';
import { pipelineSchema } from '../pipeline/config.ts';
import { apiSchema, httpSchema } from '../http/config.ts';
import { logSchema, telemetrySchema } from '../telemetry/config.ts';
import { sloSchema } from '../slo/config.ts';
import type { SloDefinition } from '../slo/types.ts';
import { alertingSchema } from '../alerts/config.ts';
import { detectorsSchema } from '../alerts/detectors/config.ts';
import { receiversSchema, type ResolvedReceiver } from '../alerts/receivers/config.ts';
import { routingTreeSchema } from '../alerts/routing/config.ts';
import { inhibitRulesSchema } from '../alerts/inhibit/config.ts';
import { timeIntervalsSchema } from '../alerts/time-intervals/config.ts';
import { scorecardSchema } from '../scorecard/config.ts';

/**
 * The root configuration schema, assembled from each capability's own section. Nothing below
 * the composition root imports this file: a capability takes its own section's type.
 */
export const configSchema = z
  .object({
    sources: z.array(sourceSchema).min(1),
    workflows: z.array(workflowSchema).default([]),
    /** Business SLOs on the workflows; see src/slo/config.ts. */
    slos: z.array(sloSchema).default([]),
    /** OpenSLO files (paths relative to this file's folder) whose SLO documents are added to `slos`. */
    openslo: z.array(z.string().min(1)).default([]),
    /** Business-alert detectors; see src/alerts/detectors/README.md. */
    detectors: detectorsSchema.prefault({}),
    /** How detector and SLO signals become alerts. */
    alerting: alertingSchema.prefault({}),
    /** Where notifications go: PagerDuty (routing key from the environment) or a webhook. */
    receivers: receiversSchema.default([]),
    /** The routing tree (Alertmanager's `route:`); without it nothing is sent, alerts are only logged. */
    routes: routingTreeSchema.optional(),
    /** Alertmanager's inhibit rules: a firing source alert mutes matching targets. */
    inhibit_rules: inhibitRulesSchema.default([]),
    /** Named recurring maintenance windows that routes mute or activate on. */
    time_intervals: timeIntervalsSchema.default([]),
    /** Required when a source has `transport: kafka` (the default); HTTP-only deployments leave it out. */
    kafka: kafkaSchema.optional(),
    /** The listener `transport: http` sources post to. */
    httpIntake: httpIntakeSchema.prefault({}),
    store: storeSchema,
    pipeline: pipelineSchema.prefault({}),
    http: httpSchema.prefault({}),
    api: apiSchema.prefault({}),
    log: logSchema.prefault({}),
    /** OpenTelemetry: business traces of workflow runs (`traces`), seamwatch's own spans (`self`). */
    telemetry: telemetrySchema.prefault({}),
    /** The weekly reliability scorecard email per owning team; see src/scorecard/config.ts. */
    scorecard: scorecardSchema.optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (!config.kafka && config.sources.some((s) => s.transport === 'kafka')) {
      const i = config.sources.findIndex((s) => s.transport === 'kafka');
      ctx.addIssue({ code: 'custom', path: ['kafka'], message: `required: source "${config.sources[i]!.name}" (sources[${i}]) has transport "kafka"` });
    }
    const paths = new Map<string, number>();
    config.sources.forEach((s, i) => {
      const path = s.transport === 'http' ? s.http?.path : undefined;
      if (path === undefined) return;
      const first = paths.get(path);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['sources', i, 'http', 'path'], message: `"${path}" is already the path of sources[${first}]` });
      else paths.set(path, i);
    });
  });

/** What the schema checks; `slos` are still entries, before the workflows' defaults are filled in. */
export type ParsedConfig = z.output<typeof configSchema>;
/**
 * The validated configuration: SLOs compiled, from the file and from its OpenSLO documents;
 * receivers' secrets read from the environment.
 */
export type SeamwatchConfig = Omit<ParsedConfig, 'slos' | 'receivers'> & { slos: SloDefinition[]; receivers: ResolvedReceiver[] };
