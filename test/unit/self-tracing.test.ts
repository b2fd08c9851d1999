import { describe, expect, it } from 'vitest';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { selfTracingEnabled } from '../../src/telemetry/self/self-tracing.ts';
import { tracedReceiver } from '../../src/alerts/receivers/traced-receiver.ts';
import type { ManagedReceiver } from '../../src/alerts/receivers/managed-receiver.ts';
import type { Alert } from '../../src/alerts/types.ts';

describe('self-tracing is off unless an endpoint is configured', () => {
  it.each([
    [{}, {}, false],
    [{ endpoint: 'http://c:4318/v1/traces' }, {}, true],
    [{}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, true],
    [{}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }, true],
    [{ endpoint: 'http://c:4318/v1/traces' }, { OTEL_SDK_DISABLED: 'true' }, false],
    [{}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'TRUE' }, false],
  ])('config %j, environment %j: %s', (config, env, expected) => {
    expect(selfTracingEnabled({ serviceName: 'seamwatch', ...config }, env)).toBe(expected);
  });
});

describe('each notification sent is a span', () => {
  const alert = (fingerprint: string, correlationId: string, state: 'firing' | 'resolved'): Alert =>
    ({ fingerprint, labels: {}, annotations: { correlation_id: correlationId }, state, startsAt: 0, endsAt: 0, generatorUrl: '' }) as unknown as Alert;

  it('names the receiver, the alerts and their correlation IDs, and is an error when something was not delivered', async () => {
    const memory = new InMemorySpanExporter();
    const tracer = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] }).getTracer('test');
    const inner: ManagedReceiver = {
      name: 'pagerduty-billing',
      start: async () => undefined,
      shutdown: async () => undefined,
      notify: async (n) => ({ failed: n.firing.filter((a) => a.fingerprint === 'f2').map((a) => ({ fingerprint: a.fingerprint, reason: '503' })) }),
    };
    const receiver = tracedReceiver(inner, tracer);
    const report = await receiver.notify({
      receiver: 'pagerduty-billing',
      groupKey: '{}:{team="billing"}',
      groupLabels: {},
      firing: [alert('f1', 'c-1', 'firing'), alert('f2', 'c-2', 'firing')],
      resolved: [alert('f3', 'c-1', 'resolved')],
      reason: 'new_alerts',
      at: 0,
    });
    expect(report.failed).toEqual([{ fingerprint: 'f2', reason: '503' }]);
    const [span] = memory.getFinishedSpans();
    expect(span!.name).toBe('notify pagerduty-billing');
    expect(span!.attributes).toMatchObject({
      'seamwatch.receiver': 'pagerduty-billing',
      'seamwatch.alerts.firing': 2,
      'seamwatch.alerts.resolved': 1,
      'seamwatch.alerts.failed': 1,
      'seamwatch.correlation_ids': ['c-1', 'c-2'],
    });
    expect(span!.status).toEqual({ code: 2, message: '1 not delivered' });
  });
});
