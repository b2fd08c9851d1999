import { z } from 'zod';
import { businessTracesSchema, otlpUrl } from './traces/config.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The `log:` section. */
export const logSchema = z.object({ level: z.enum(LOG_LEVELS).default('info') }).strict();

/**
 * `telemetry.self:`: seamwatch's own work (HTTP requests, consumed batches, store flushes,
 * notifications) as spans through the OpenTelemetry Node SDK. On when an endpoint is set here or
 * in OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, unless OTEL_SDK_DISABLED=true.
 */
export const selfTracingSchema = z
  .object({
    endpoint: otlpUrl.optional(),
    /** OTEL_SERVICE_NAME wins over it. */
    serviceName: z.string().min(1).default('seamwatch'),
  })
  .strict();

export type SelfTracingConfig = z.output<typeof selfTracingSchema>;

/** The `telemetry:` section. */
export const telemetrySchema = z
  .object({
    traces: businessTracesSchema.optional(),
    self: selfTracingSchema.prefault({}),
  })
  .strict();

export type TelemetryConfig = z.output<typeof telemetrySchema>;
