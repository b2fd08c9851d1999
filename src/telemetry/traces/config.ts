import { z } from 'zod';
import { durationSchema } from '../../domain/duration.ts';

/** An OTLP/HTTP traces URL; a bare collector address gets /v1/traces. */
export const otlpUrl = z
  .string()
  .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'must be an http(s) URL, e.g. http://127.0.0.1:4318/v1/traces')
  .transform((v) => {
    // A bare collector address gets OTLP/HTTP's traces path, as OTEL_EXPORTER_OTLP_ENDPOINT would.
    const url = new URL(v);
    return url.pathname === '/' ? new URL('/v1/traces', url).href : url.href;
  });

/**
 * `telemetry.traces:`: stitched workflow runs exported as traces over OTLP/HTTP to the team's
 * trace backend (Tempo, Jaeger, Honeycomb, an OpenTelemetry Collector). Off without it.
 */
export const businessTracesSchema = z
  .object({
    /** The OTLP/HTTP traces URL; a bare host:port gets /v1/traces. */
    endpoint: otlpUrl,
    protocol: z.enum(['http/protobuf', 'http/json']).default('http/protobuf'),
    /** Extra request headers (OTEL_EXPORTER_OTLP_HEADERS is honoured too: put secrets there). */
    headers: z.record(z.string(), z.string()).default({}),
    /** Also export runs still open past their deadline (state deadline_missed); again under the same trace ID when they finish. */
    exportOpen: z.boolean().default(true),
    /** Spans waiting for export at most; past it new spans are dropped and counted. */
    maxQueueSpans: z.number().int().positive().default(20_000),
    maxBatchSpans: z.number().int().positive().default(512),
    /** Longest a span waits for its batch to fill. */
    batchDelay: durationSchema({ positive: true }).default(2_000),
    /** One export's deadline, its retries (429, 502-504, connection refused, with backoff) included. */
    timeout: durationSchema({ positive: true }).default(10_000),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.maxBatchSpans > value.maxQueueSpans) ctx.addIssue({ code: 'custom', path: ['maxBatchSpans'], message: `must not be more than maxQueueSpans (${value.maxQueueSpans})` });
  });

export type BusinessTracesConfig = z.output<typeof businessTracesSchema>;

