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

const httpUrl = z.string().refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'must be an http(s) URL, e.g. http://127.0.0.1:4318/v1/traces');

/** Where each protocol posts when the endpoint is a bare address. */
const DEFAULT_PATHS = { 'http/protobuf': '/v1/traces', 'http/json': '/v1/traces', zipkin: '/api/v2/spans' } as const;

/**
 * `telemetry.traces:`: stitched workflow runs exported as traces over OTLP/HTTP to the team's
 * trace backend (Tempo, Jaeger, Honeycomb, an OpenTelemetry Collector), or to Zipkin. Off without it.
 */
export const businessTracesSchema = z
  .object({
    /** The traces URL; a bare host:port gets /v1/traces (OTLP) or /api/v2/spans (Zipkin). */
    endpoint: httpUrl,
    /** OTLP/HTTP encoded as protobuf or JSON; or Zipkin's v2 JSON API. */
    protocol: z.enum(['http/protobuf', 'http/json', 'zipkin']).default('http/protobuf'),
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
  })
  .transform((value) => {
    const url = new URL(value.endpoint);
    return { ...value, endpoint: url.pathname === '/' ? new URL(DEFAULT_PATHS[value.protocol], url).href : url.href };
  });

export type BusinessTracesConfig = z.output<typeof businessTracesSchema>;

