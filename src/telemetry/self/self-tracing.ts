import { context, propagation, ProxyTracerProvider, trace, type Tracer } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { Logger } from 'pino';
import type { SelfTracingConfig } from '../config.ts';

/** A tracer that records nothing: what components get while self-tracing is off. */
export const NO_TRACER: Tracer = new ProxyTracerProvider().getTracer('seamwatch');

const SCOPE = 'seamwatch';

/**
 * Whether seamwatch traces its own work: an endpoint in `telemetry.self` or in the standard
 * variables, and OTEL_SDK_DISABLED not true.
 */
export function selfTracingEnabled(config: SelfTracingConfig, env: NodeJS.ProcessEnv): boolean {
  if ((env['OTEL_SDK_DISABLED'] ?? '').trim().toLowerCase() === 'true') return false;
  return Boolean(config.endpoint || env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
}

/**
 * seamwatch's own spans (HTTP requests, consumed batches, store flushes, notifications) through
 * the OpenTelemetry Node SDK, which reads the standard OTEL_* variables (service name, resource
 * attributes, exporter protocol, headers, sampler, batch sizes). Off unless an endpoint is set.
 * The SDK is process-wide: it registers the global tracer provider, and unregisters it at shutdown.
 */
export class SelfTracing {
  readonly enabled: boolean;
  private sdk: NodeSDK | undefined;
  private readonly config: SelfTracingConfig;
  private readonly env: NodeJS.ProcessEnv;
  private readonly logger: Logger;
  private closing: Promise<void> | undefined;

  constructor(config: SelfTracingConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env) {
    this.config = config;
    this.env = env;
    this.logger = logger;
    this.enabled = selfTracingEnabled(config, env);
  }

  /**
   * The tracer to hand to components at construction: when on, the API's proxy, which records
   * once start() has registered the SDK; when off, one that never records.
   */
  get tracer(): Tracer {
    return this.enabled ? trace.getTracer(SCOPE) : NO_TRACER;
  }

  start(): void {
    if (!this.enabled || this.sdk || this.closing) return;
    const { endpoint, serviceName } = this.config;
    const json = (this.env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] ?? this.env['OTEL_EXPORTER_OTLP_PROTOCOL']) === 'http/json';
    this.sdk = new NodeSDK({
      // The file's endpoint wins; without it the SDK builds its exporter from the OTEL_* variables.
      ...(endpoint ? { traceExporter: json ? new OtlpJsonExporter({ url: endpoint }) : new OtlpProtobufExporter({ url: endpoint }) } : {}),
      // OTEL_SERVICE_NAME (read by the SDK's env detector) wins over the file.
      ...(this.env['OTEL_SERVICE_NAME'] ? {} : { serviceName }),
      // Traces only: metrics are on /metrics, logs go to stdout.
      metricReaders: [],
      logRecordProcessors: [],
      instrumentations: [],
    });
    this.sdk.start();
    this.logger.info({ endpoint: endpoint ?? this.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ?? this.env['OTEL_EXPORTER_OTLP_ENDPOINT'] }, 'self-tracing on');
  }

  /** Flushes the spans in hand and unregisters the SDK. Safe twice and before start(). */
  shutdown(): Promise<void> {
    this.closing ??= (async () => {
      const sdk = this.sdk;
      if (!sdk) return;
      try {
        await sdk.shutdown();
      } finally {
        trace.disable();
        context.disable();
        propagation.disable();
      }
    })();
    return this.closing;
  }
}

/** Correlation IDs as a span attribute: distinct, at most `max` of them (a batch can hold thousands). */
export function correlationIds(ids: Iterable<string>, max = 50): string[] {
  const out = new Set<string>();
  for (const id of ids) {
    if (!id) continue;
    out.add(id);
    if (out.size >= max) break;
  }
  return [...out];
}

export const ATTR_CORRELATION_IDS = 'seamwatch.correlation_ids';
export const ATTR_CORRELATION_ID = 'seamwatch.correlation_id';
