import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Message, Producer } from 'kafkajs';
import { cloudEvent, T0 } from '../support/scenario.ts';
import { SCENARIO_DETECTORS, webhook } from '../support/alert-scenario.ts';
import type { SeamwatchProcess } from '../support/child.ts';
import { groupLag, kafka, requireServices, waitFor } from '../support/services.ts';
import { processHarness } from '../support/processes.ts';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;

/** The partitions of one topic a process was last assigned, from its "partitions assigned" log line. */
function assigned(p: SeamwatchProcess, topic: string): number[] | undefined {
  const lines = p.output.split('\n').filter((l) => l.includes('"partitions assigned"'));
  const last = lines.at(-1);
  return last ? ((JSON.parse(last) as { assignment: Record<string, number[]> }).assignment[topic] ?? []).sort() : undefined;
}

/** Bytes of padding per backlog message: enough of them fill more than one fetch (4 MB per partition). */
const PAD = 'x'.repeat(2_000);
const BACKLOG = 2_800;

/**
 * Two instances share the group. B owns the partition of an open plan upgrade and has read only
 * its trigger; A owns the others and has read an hour further. B dies (no graceful leave), and
 * a backlog lands on the upgrade's partition: more than a fetch of other events, then its steps,
 * a minute after its trigger. A takes the partition over. Before, A judged the restored run
 * against its own watermark an hour ahead: deadline_missed was written and paged at the first
 * flush, before the steps further down the backlog were read.
 */
describe('a lagging partition handed over in a rebalance, on real Kafka and ClickHouse', () => {
  let admin: Admin;
  let producer: Producer;
  let cleanup: (() => Promise<unknown>) | undefined;

  beforeAll(async () => {
    await requireServices();
    admin = kafka().admin();
    await admin.connect();
    producer = kafka().producer();
    await producer.connect();
  });

  afterAll(async () => {
    await cleanup?.().catch(() => undefined);
    await producer?.disconnect();
    await admin?.disconnect();
  });

  it('does not judge or page the handed-over run as missed: it completes in time from its backlog', async () => {
    // Small flushes, so that the backlog is stored in several, as a long one would be.
    const harness = await processHarness(admin, 'rebal', { slos: SCENARIO_DETECTORS, pipeline: '{ flushInterval: 200ms, flushRows: 200, idleAdvanceAfter: 2s }' });
    cleanup = harness.cleanup;
    const { topics, all, ch, id, groupId, start } = harness;
    const a = await start();
    const b = await start();
    const split = await waitFor(
      'the two instances to share the partitions',
      async () => {
        const mine = assigned(a, topics.crm);
        const theirs = assigned(b, topics.crm);
        return mine?.length === 2 && theirs?.length === 2 && new Set([...mine, ...theirs]).size === 4 ? { mine, theirs } : undefined;
      },
      60_000,
    );
    const lagging = split.theirs[0]!;

    const onPartition = (partition: number, message: Message): Message => ({ ...message, partition });
    await producer.send({ topic: topics.crm, messages: [onPartition(lagging, cloudEvent('crm', 'subscription.upgraded', 'crm-up-lag', 'up-lag', T0, false))] });
    // A's partitions reach an hour past the upgrade on every topic.
    for (const topic of all) {
      const name = topic === topics.billing ? 'billing' : topic === topics.crm ? 'crm' : 'ticketing';
      const beat = (partition: number) =>
        onPartition(partition, name === 'billing' ? webhook('heartbeat', `hb-${partition}`, `hb-${partition}`, T0 + H) : cloudEvent(name, 'heartbeat', `hb-${partition}`, `hb-${partition}`, T0 + H, false));
      await producer.send({ topic, messages: split.mine.map(beat) });
    }
    await waitFor('both instances to commit what they read', async () => (await groupLag(admin, groupId, all)) === 0, 60_000);
    await waitFor('the open run stored by B', async () => {
      const [row] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM ${id}.runs WHERE run_id = 'plan-upgrade:up-lag'`);
      return Number(row?.n) > 0;
    });

    await b.kill();
    // Unread by anyone when A takes the partition over: its backlog, the steps last.
    const filler = Array.from({ length: BACKLOG }, (_, i) =>
      onPartition(lagging, webhook('invoice.noted', `evt_note_${i}`, `note-${i}`, T0 + 10 * S + i, { pad: PAD })),
    );
    for (let i = 0; i < filler.length; i += 400) await producer.send({ topic: topics.billing, messages: filler.slice(i, i + 400) });
    await producer.send({
      topic: topics.billing,
      messages: [
        onPartition(lagging, webhook('invoice.updated', 'evt_inv_lag', 'up-lag', T0 + M)),
        onPartition(lagging, webhook('entitlement.activated', 'evt_ent_lag', 'up-lag', T0 + 2 * M)),
      ],
    });
    await waitFor('A to take every partition over', async () => assigned(a, topics.crm)?.length === 4, 60_000);
    await waitFor('A to commit the backlog', async () => (await groupLag(admin, groupId, all)) === 0, 60_000);
    const states = await waitFor('the upgrade to complete', async () => {
      const rows = await ch.rows<{ state: string; missed: number; version: string }>(
        `SELECT state, deadline_missed AS missed, version FROM ${id}.runs WHERE run_id = 'plan-upgrade:up-lag' ORDER BY version`,
      );
      return rows.at(-1)?.state === 'completed' ? rows.map((r) => `${r.state}${Number(r.missed) ? ' (missed)' : ''}`) : undefined;
    }, 30_000);
    // Nothing paged for it, not even a page resolved since (the alert book keeps those).
    const body = (await (await fetch(`http://127.0.0.1:${a.port}/api/v1/alerts`)).json()) as { alerts: { labels: Record<string, string>; annotations: Record<string, string>; state: string }[] };
    expect(body.alerts.filter((x) => x.annotations['correlation_id'] === 'up-lag').map((x) => `${x.labels['detector']} ${x.state}`)).toEqual([]);
    // Rows not merged away yet show every state written; none was a missed deadline.
    expect(states.filter((s) => s.includes('missed'))).toEqual([]);
    expect(states.at(-1)).toBe('completed');
  });
});
