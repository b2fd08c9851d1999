/**
 * Pages across a crash: seamwatch as a real process, killed with SIGKILL (no flush, no save,
 * no goodbye) at the worst moments, restarted on the same store and consumer group, with a
 * PagerDuty contract server that records every request.
 */
import { describe, expect, it } from 'vitest';
import { kafkaSuite } from '../support/suite.ts';
import type { Message } from 'kafkajs';
import { PagerDutyContractServer } from '../support/pagerduty-server.ts';
import { processHarness } from '../support/processes.ts';
import { cloudEvent, T0 } from '../support/scenario.ts';
import { heartbeats, webhook } from '../support/alert-scenario.ts';
import { alertsOf, pagerRouting } from '../support/pager.ts';
import { groupLag, waitFor } from '../support/services.ts';
import type { SeamwatchProcess } from '../support/child.ts';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const KEY = 'k'.repeat(32);
/** Long enough that a kill always lands inside it, short enough for a test. */
const GROUP_WAIT_MS = 8_000;


describe('seamwatch killed with SIGKILL never loses a page or a resolve', () => {
  const pagerDuty = new PagerDutyContractServer();
  const suite = kafkaSuite({ start: () => pagerDuty.start(), stop: () => pagerDuty.close() });
  const { cleanups } = suite;

  async function setUp(prefix: string, options: { pipeline?: string; upgradeDeadline?: string } = {}) {
    const harness = await processHarness(suite.admin, prefix, { slos: pagerRouting(pagerDuty.url, { groupWait: `${GROUP_WAIT_MS}ms`, groupInterval: `${GROUP_WAIT_MS}ms` }), env: { SEAMWATCH_PD_KEY: KEY }, ...options });
    cleanups.push(harness.cleanup);
    const send = async (byTopic: Map<string, Message[]>) => {
      for (const [topic, messages] of byTopic) await suite.producer.send({ topic, messages });
    };
    const committed = () => waitFor('everything produced to be stored and committed', async () => (await groupLag(suite.admin, harness.groupId, harness.all)) === 0);
    return { ...harness, send, committed };
  }

  const firingOf = async (p: SeamwatchProcess, detector: string) => (await alertsOf(p)).find((a) => a.labels['detector'] === detector && a.state === 'firing');
  const sent = (dedupKey: string, action: 'trigger' | 'resolve') =>
    pagerDuty.accepted().filter((r) => {
      const body = r.body as { dedup_key?: string; event_action?: string };
      return body.dedup_key === dedupKey && body.event_action === action;
    }).length;
  /**
   * Stamped now: an alert that started group_wait ago or more would be flushed at once (a
   * backlog). Each test has its own account: the fingerprint (PagerDuty's dedup_key) follows it.
   */
  const duplicateInvoice = (topics: { billing: string }, account: string) => {
    const now = Date.now();
    return new Map([
      [
        topics.billing,
        [
          webhook('invoice.created', 'evt_a', 'bill-1', now - S, { account_id: account, billing_period: '2026-11' }),
          webhook('invoice.created', 'evt_b', 'bill-2', now, { account_id: account, billing_period: '2026-11' }),
        ],
      ],
    ]);
  };

  it('sends a trigger that was waiting in group_wait when it was killed, exactly once', async () => {
    const { topics, start, send, committed } = await setUp('pw');
    const first = await start();
    await send(duplicateInvoice(topics, 'acct-wait'));
    await committed();
    const alert = await waitFor('the duplicate invoice to fire', () => firingOf(first, 'duplicate-invoice'), 10_000, 50);
    await first.kill();
    // Still inside group_wait: nothing went out before the kill.
    expect(sent(alert.fingerprint, 'trigger')).toBe(0);

    const second = await start();
    await waitFor('the trigger after the restart', async () => sent(alert.fingerprint, 'trigger') === 1, 30_000).catch((error: unknown) => {
      // What the two processes said is the only way to tell why, when this fails in CI.
      throw new Error(`${String(error)}\n--- before the kill:\n${first.output.slice(-4_000)}\n--- after the restart:\n${second.output.slice(-4_000)}`);
    });
    await new Promise((resolve) => setTimeout(resolve, GROUP_WAIT_MS + 2 * S));
    expect(sent(alert.fingerprint, 'trigger')).toBe(1);
  });

  it('sends the resolve of a problem that ended just before it was killed', async () => {
    const { topics, start, send, committed } = await setUp('pr');
    const first = await start();
    await send(new Map([[topics.ticketing, [cloudEvent('ticketing', 'ticket.opened', 'tk-stuck-open', 'tk-stuck', T0, false)]]]));
    await send(heartbeats(topics, T0 + 5 * H));
    const alert = await waitFor('the stuck ticket to fire', () => firingOf(first, 'stuck-ticket'), 20_000, 50);
    await waitFor('its trigger', async () => sent(alert.fingerprint, 'trigger') === 1, 30_000);
    // The ticket moves: the problem is over; its resolve waits for the group's next flush.
    await send(new Map([[topics.ticketing, [cloudEvent('ticketing', 'ticket.resolved', 'tk-stuck-res', 'tk-stuck', T0 + 5 * H + M, false)]]]));
    await committed();
    await waitFor('the alert to resolve', async () => (await alertsOf(first)).some((a) => a.fingerprint === alert.fingerprint && a.state === 'resolved'), 10_000, 50);
    await first.kill();
    expect(sent(alert.fingerprint, 'resolve')).toBe(0);

    await start();
    await waitFor('the resolve after the restart', async () => sent(alert.fingerprint, 'resolve') === 1, 30_000);
    expect(sent(alert.fingerprint, 'trigger')).toBe(1);
    expect(pagerDuty.incident(alert.fingerprint)).toMatchObject({ state: 'resolved' });
  });

  it('does not page again for a trigger delivered right before it was killed', async () => {
    const { id, topics, ch, start, send, committed } = await setUp('pd');
    const first = await start();
    await send(duplicateInvoice(topics, 'acct-delivered'));
    await committed();
    const alert = await waitFor('the duplicate invoice to fire', () => firingOf(first, 'duplicate-invoice'), 10_000, 50);
    await waitFor('its trigger', async () => sent(alert.fingerprint, 'trigger') === 1, 30_000, 20);
    // Killed as soon as the delivery is on record in the store (saved when PagerDuty answered).
    await waitFor('the delivery to be saved', async () => {
      const rows = await ch.rows<{ doc: string }>(`SELECT doc FROM ${id}.state_documents ORDER BY version DESC LIMIT 1`);
      const saved = rows[0] ? (JSON.parse(rows[0].doc) as { notificationLog?: { open: Record<string, Record<string, number>> } }) : undefined;
      return saved?.notificationLog?.open['pager']?.[alert.fingerprint] !== undefined;
    }, 10_000, 10);
    await first.kill();

    const second = await start();
    await waitFor('the alert restored as firing', () => firingOf(second, 'duplicate-invoice'), 10_000, 50);
    await new Promise((resolve) => setTimeout(resolve, GROUP_WAIT_MS + 3 * S));
    expect(sent(alert.fingerprint, 'trigger')).toBe(1);
  });

  it('judges a deadline and pages it after a restart with no new traffic', async () => {
    const { id, topics, ch, start, send, committed } = await setUp('pi', {
      upgradeDeadline: '20s',
      pipeline: '{ flushInterval: 200ms, idleAdvanceAfter: 2s, allowedLateness: 1s }',
    });
    const first = await start();
    const now = Date.now();
    await send(
      new Map([
        [topics.crm, [cloudEvent('crm', 'subscription.upgraded', 'crm-late', 'up-late', now, false)]],
        [topics.billing, [webhook('invoice.updated', 'inv-late', 'up-late', now + S)]],
      ]),
    );
    await committed();
    await first.kill();
    const stateOf = async () => (await ch.rows<{ state: string }>(`SELECT argMax(state, version) AS state FROM ${id}.runs WHERE correlation_id = 'up-late'`))[0]?.state;
    expect(await stateOf()).toBe('open');

    const second = await start();
    // Nothing more is produced: the restarted instance must rebuild the run and let event time move on.
    await waitFor('the missed deadline to be stored', async () => (await stateOf()) === 'deadline_missed', 60_000);
    const alert = await waitFor('the late upgrade to fire', async () => (await alertsOf(second)).find((a) => a.labels['detector'] === 'upgrade-late'), 10_000);
    await waitFor('its page', async () => sent(alert.fingerprint, 'trigger') === 1, 30_000);
  });
});
