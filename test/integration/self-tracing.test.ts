import { beforeAll, describe, expect, it } from 'vitest';
import type { Seamwatch } from '../../src/app.ts';
import type { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { buildScenario, produceAll, type ScenarioTopics } from '../support/scenario.ts';
import { unique } from '../support/services.ts';
import { kafkaSuite, scenarioApp } from '../support/suite.ts';
import { expectRunsExactly } from '../support/runs.ts';
import { OtlpReceiver } from '../support/otlp-receiver.ts';

describe("seamwatch's own work as spans through the OpenTelemetry Node SDK (Kafka → ClickHouse server)", () => {
  const suite = kafkaSuite();
  const id = unique('self');
  const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  const receiver = new OtlpReceiver();
  let app: Seamwatch;
  let ch: ClickHouseStore;

  beforeAll(async () => {
    await receiver.start();
    suite.cleanups.push(() => receiver.stop());
    ({ app, ch } = await scenarioApp(suite, id, topics, `telemetry: { self: { endpoint: "${receiver.url}", serviceName: seamwatch-test } }\n`));
    expect(app.selfTracing.enabled).toBe(true);
    await app.start();
    const scenario = buildScenario(topics, 10, 2);
    await produceAll(suite.producer, scenario.messages);
    await expectRunsExactly(ch, id, scenario);
    expect((await fetch(`http://127.0.0.1:${app.http.port}/api/v1/traces/c-up-1`, { headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } })).status).toBe(200);
    // Stopping flushes the SDK's batch: every span is at the receiver afterwards.
    await app.shutdown();
  }, 180_000);

  it('traces each consumed batch with messaging attributes and the correlation IDs in it', () => {
    const batches = receiver.spans.filter((s) => s.name === `process ${topics.crm}`);
    expect(batches.length).toBeGreaterThan(0);
    expect(batches[0]).toMatchObject({ kind: 5, resource: { 'service.name': 'seamwatch-test' }, attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': topics.crm, 'messaging.consumer.group.name': `${id}-group` } });
    const ids = new Set(batches.flatMap((s) => s.attributes['seamwatch.correlation_ids'] as string[]));
    expect(ids.has('c-up-0')).toBe(true);
  });

  it('traces each store flush, with the store write as a child span', () => {
    const flushes = receiver.spans.filter((s) => s.name === 'seamwatch.flush');
    expect(flushes.length).toBeGreaterThan(0);
    const withRuns = flushes.find((s) => (s.attributes['seamwatch.correlation_ids'] as string[] | undefined)?.includes('c-up-0'))!;
    expect(withRuns.attributes['seamwatch.flush.events']).toBeGreaterThan(0);
    const children = receiver.spans.filter((s) => s.traceId === withRuns.traceId && s.parentSpanId === withRuns.spanId).map((s) => s.name);
    expect(children).toEqual(expect.arrayContaining(['seamwatch.store', 'seamwatch.commit']));
  });

  it('traces HTTP requests by route, in the caller\'s trace, with the correlation ID asked for', () => {
    const request = receiver.spans.find((s) => s.name === 'GET /api/v1/traces/:correlationId')!;
    expect(request).toMatchObject({
      kind: 2,
      traceId: '0af7651916cd43dd8448eb211c80319c',
      parentSpanId: 'b7ad6b7169203331',
      attributes: { 'http.request.method': 'GET', 'http.route': '/api/v1/traces/:correlationId', 'http.response.status_code': 200, 'seamwatch.correlation_id': 'c-up-1' },
    });
  });
});
