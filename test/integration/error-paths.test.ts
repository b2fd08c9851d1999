import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Producer } from 'kafkajs';
import { parseConfigText } from '../../src/config/load.ts';
import { Seamwatch } from '../../src/app.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { cloudEvent, scenarioConfig, T0, type ScenarioTopics } from '../support/scenario.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, createTopics, kafka, requireServices, store, unique, waitFor } from '../support/services.ts';

const S = 1_000;
const M = 60 * S;

/**
 * A CloudEvents billing source whose producers put the error in `data.error` (no errorclass
 * extension attribute): `errors:` reads it by path, the CloudEvents checks stay, and
 * `errors.rules` classify it — here a plan sync lag is transient, a validation error is not.
 */
const DETECTORS = `
detectors:
  errors:
    rules: [{ class: "plan_sync_*", is: transient }]
  partialFailures:
    - { name: charged-not-entitled, workflow: plan-upgrade, irreversible: [invoice-updated] }
`;

describe('error details by path, through the real pipeline on Kafka', () => {
  const id = unique('errpaths');
  const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  const all = Object.values(topics);
  let admin: Admin;
  let producer: Producer;
  let app: Seamwatch;

  beforeAll(async () => {
    await requireServices();
    admin = kafka().admin();
    await admin.connect();
    await createTopics(admin, all);
    producer = kafka().producer();
    await producer.connect();
    const base = scenarioConfig(topics, { database: id, groupId: `${id}-group`, brokers: KAFKA_BROKERS, clickhouseUrl: CLICKHOUSE_URL, slos: DETECTORS });
    const mapped = base.slice(base.indexOf('  - name: billing\n'), base.indexOf('workflows:'));
    const text = base.replace(mapped, `  - name: billing\n    topic: ${topics.billing}\n    errors: { class: data.error.class, code: data.error.code, message: data.error.message }\n`);
    expect(text).toContain('errors: { class: data.error.class');
    app = new Seamwatch({ config: parseConfigText(text, 'test'), logger: silentLogger() });
    await app.start();
  });

  afterAll(async () => {
    await app?.shutdown();
    await producer?.disconnect();
    const ch = store(id);
    await ch.command(`DROP DATABASE IF EXISTS ${id}`);
    await ch.shutdown();
    await admin?.deleteTopics({ topics: [...all, ...all.map((t) => `${t}.dlq`)] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('classifies a failure by the class in its data: a validation error is a partial failure, a plan sync lag is not', async () => {
    const run = (c: string, at: number, errorClass: string) => [
      [topics.crm, cloudEvent('crm', 'subscription.upgraded', `${c}-up`, c, at, false)],
      [topics.billing, cloudEvent('billing', 'invoice.updated', `${c}-inv`, c, at + 10 * S, false)],
      [topics.billing, cloudEvent('billing', 'entitlement.failed', `${c}-ent`, c, at + 20 * S, false, { error: { class: errorClass, code: 'E1', message: `${errorClass} happened` } })],
    ] as const;
    for (const [topic, message] of [...run('up-perm', T0, 'validation_error'), ...run('up-trans', T0 + M, 'plan_sync_lag')]) await producer.send({ topic, messages: [message] });

    const alerts = async () => ((await (await fetch(`http://127.0.0.1:${app.http.port}/api/v1/alerts`)).json()) as { alerts: { labels: Record<string, string>; annotations: Record<string, string> }[] }).alerts;
    await waitFor('the partial failure of up-perm', async () => (await alerts()).some((a) => a.annotations['correlation_id'] === 'up-perm'), 60_000);
    // The stored failure event carries the error read by path.
    type Trace = { events?: { type: string; error?: { class?: string; code?: string; message?: string } }[] };
    const failure = await waitFor('the stored failure of up-trans', async () => {
      const trace = (await (await fetch(`http://127.0.0.1:${app.http.port}/api/v1/traces/up-trans`)).json()) as Trace;
      return trace.events?.find((e) => e.type === 'entitlement.failed');
    });
    expect(failure.error).toMatchObject({ class: 'plan_sync_lag', code: 'E1', message: 'plan_sync_lag happened' });
    expect((await alerts()).map((a) => `${a.labels['detector']} ${a.annotations['correlation_id']}`)).toEqual(['charged-not-entitled up-perm']);
  });
});
