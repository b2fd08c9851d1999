import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { BusinessTracesConfig } from './config.ts';
import { BusinessTraceExporter } from './exporter.ts';
import { TraceExportMetrics } from './metrics.ts';
import { BusinessSpanBuilder } from './spans.ts';

/**
 * The official exporter for the configured protocol: OTLP/HTTP (which retries 429, 502-504 and
 * refused connections itself), or Zipkin's v2 API (no retries: a failed batch is dropped and counted).
 */
export function otlpSpanExporter(config: Pick<BusinessTracesConfig, 'endpoint' | 'protocol' | 'headers' | 'timeout'>): SpanExporter {
  // Zipkin names each span's service from its resource, so one trace still shows every system.
  if (config.protocol === 'zipkin') return new ZipkinExporter({ url: config.endpoint, headers: config.headers });
  const options = { url: config.endpoint, headers: config.headers, timeoutMillis: config.timeout, concurrencyLimit: 1 };
  return config.protocol === 'http/json' ? new OtlpJsonExporter(options) : new OtlpProtobufExporter(options);
}

/** The business-trace exporter the `telemetry.traces:` section describes. */
export function businessTraceExporter(config: BusinessTracesConfig, deps: { registry: Registry; logger: Logger; exporter?: SpanExporter }): BusinessTraceExporter {
  return new BusinessTraceExporter({
    exporter: deps.exporter ?? otlpSpanExporter(config),
    builder: new BusinessSpanBuilder(),
    metrics: new TraceExportMetrics(deps.registry),
    logger: deps.logger,
    maxQueueSpans: config.maxQueueSpans,
    maxBatchSpans: config.maxBatchSpans,
    batchDelayMs: config.batchDelay,
  });
}
