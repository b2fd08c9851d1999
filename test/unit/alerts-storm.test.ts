import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AlertDispatcher } from '../../src/alerts/dispatcher.ts';
import { InMemoryNotificationLog } from '../../src/alerts/notify/notification-log.ts';
import { resolvesOwed, stormKey } from '../../src/alerts/notify/storm.ts';
import type { ClearElsewhere } from '../../src/alerts/notify/storm-stage.ts';
import type { PagerDutyNotifier } from '../../src/alerts/pagerduty/notifier.ts';
import { toPagerDutyEvent } from '../../src/alerts/pagerduty/event.ts';
import { receiversSchema, stormOptions } from '../../src/alerts/receivers/config.ts';
import { PagerDutyReceiver } from '../../src/alerts/receivers/pagerduty-receiver.ts';
import { routingTreeSchema } from '../../src/alerts/routing/config.ts';
import { groupKeyFor } from '../../src/alerts/routing/grouping.ts';
import { buildRoutingTree } from '../../src/alerts/routing/tree.ts';
import type { Alert } from '../../src/alerts/types.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

const LABELS = { alertname: 'upgrade-late', detector: 'upgrade-late', team: 'billing-platform', severity: 'error', workflow: 'plan-upgrade' };

const late = (run: number, state: 'firing' | 'resolved' = 'firing'): Alert => ({
  fingerprint: `fp-${run}`,
  labels: LABELS,
  annotations: { summary: `upgrade up-${run} missed its deadline`, correlation_id: `up-${run}` },
  state,
  startsAt: Date.UTC(2026, 10, 23, 9, 0, run),
  endsAt: state === 'resolved' ? Date.UTC(2026, 10, 23, 10) : 0,
  generatorUrl: `http://seamwatch/api/v1/traces/up-${run}`,
});

interface Sent {
  action: 'trigger' | 'resolve';
  alert: Alert;
}

/** What would go to PagerDuty; the notifier itself is tested against the contract server. */
function recordingNotifier(sent: Sent[]) {
  return {
    start: async () => {},
    shutdown: async () => {},
    send: async (alert: Alert, action: 'trigger' | 'resolve') => {
      sent.push({ action, alert });
      return { status: 'success' as const, attempts: 1, dedupKey: alert.fingerprint, action };
    },
  } as unknown as PagerDutyNotifier;
}

const until = async (what: string, ok: () => boolean) => {
  const end = Date.now() + 3_000;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};
const settle = () => new Promise((r) => setTimeout(r, 120));

const ROUTE = { receiver: 'pager', group_wait: '0s', group_interval: '20ms' };

function setUp(storm: unknown = { threshold: 3, examples: 2 }, log = new InMemoryNotificationLog(), stormsMayResolve?: () => boolean, stormsClearElsewhere?: ClearElsewhere) {
  const receivers = receiversSchema.parse([{ name: 'pager', pagerduty: { routingKeyEnv: 'PD_KEY', storm } }]);
  const sent: Sent[] = [];
  const receiver = new PagerDutyReceiver('pager', recordingNotifier(sent), 'k'.repeat(32), (r, fp) => log.isOpen(r, fp));
  const tree = buildRoutingTree(routingTreeSchema.parse(ROUTE));
  const dispatcher = new AlertDispatcher({ tree, receivers: [receiver], inhibitRules: [], timeIntervals: [], registry: new Registry(), logger: silentLogger(), log, storms: stormOptions(receivers), alertsUrl: 'http://seamwatch:9470/api/v1/alerts', ...(stormsMayResolve ? { stormsMayResolve } : {}), ...(stormsClearElsewhere ? { stormsClearElsewhere, stormsConfirmClearAfterMs: 30 } : {}) });
  const key = stormKey('pager', groupKeyFor(tree.root, { alertname: 'upgrade-late', team: 'billing-platform', workflow: 'plan-upgrade' }), 'upgrade-late', 'plan-upgrade');
  const fire = (...runs: number[]) => runs.forEach((run) => dispatcher.take({ kind: 'firing', alert: late(run) }));
  const resolve = (...runs: number[]) => runs.forEach((run) => dispatcher.take({ kind: 'resolved', alert: late(run, 'resolved') }));
  const summary = () => sent.map((s) => `${s.action} ${s.alert.fingerprint === key ? `STORM(${s.alert.annotations['count'] ?? '-'})` : s.alert.fingerprint}`);
  return { dispatcher, sent, log, key, fire, resolve, summary };
}

describe('a storm of one detector and workflow is one PagerDuty incident', () => {
  it('below the threshold, each problem is its own incident', async () => {
    const { dispatcher, fire, summary, log, key } = setUp();
    await dispatcher.start();
    fire(1, 2);
    await until('two triggers', () => summary().length === 2);
    await settle();
    expect(summary().sort()).toEqual(['trigger fp-1', 'trigger fp-2']);
    expect(log.isOpen('pager', key)).toBe(false);
    await dispatcher.shutdown();
  });

  it('at the threshold, one incident with a stable dedup key, the count, the first examples and a link', async () => {
    const { dispatcher, fire, summary, sent, log, key } = setUp();
    await dispatcher.start();
    fire(1, 2, 3);
    await until('the storm trigger', () => summary().length === 1);
    await settle();
    expect(summary()).toEqual(['trigger STORM(3)']);
    const storm = sent[0]!.alert;
    expect(storm.fingerprint).toMatch(/^storm-[0-9a-f]{32}$/);
    expect(storm.annotations).toMatchObject({ count: '3', examples: 'up-1, up-2', paged_on_their_own: '0', first_example: 'upgrade up-1 missed its deadline' });
    expect(storm.annotations['summary']).toBe('3 × upgrade-late on plan-upgrade at once: upgrade up-1 missed its deadline');
    expect(storm.generatorUrl).toBe('http://seamwatch:9470/api/v1/alerts?state=firing&detector=upgrade-late&workflow=plan-upgrade');
    const event = toPagerDutyEvent(storm, 'trigger', { routingKey: 'k'.repeat(32), source: 'seamwatch' });
    expect(event.kind).toBe('valid');
    if (event.kind === 'valid' && event.event.event_action === 'trigger') {
      expect(event.event.dedup_key).toBe(key);
      expect(event.event.payload.custom_details).toMatchObject({ count: 3, examples: 'up-1, up-2' });
      expect(event.event.links).toEqual([{ href: storm.generatorUrl, text: expect.any(String) }]);
    }
    // Each problem is still an alert of its own (the API lists them); none is an incident of its own.
    expect(['fp-1', 'fp-2', 'fp-3'].map((fp) => log.isOpen('pager', fp))).toEqual([false, false, false]);
    expect(log.isOpen('pager', key)).toBe(true);
    await dispatcher.shutdown();
  });

  it('is updated as it grows, and resolved once when the group is clear', async () => {
    const { dispatcher, fire, resolve, summary } = setUp();
    await dispatcher.start();
    fire(1, 2, 3);
    await until('the storm', () => summary().length === 1);
    fire(4);
    await until('the update', () => summary().length === 2);
    await settle();
    expect(summary()).toEqual(['trigger STORM(3)', 'trigger STORM(4)']);
    resolve(1, 2);
    await settle();
    expect(summary()).toHaveLength(2); // no resolve of its own for a covered alert, the storm stays open
    resolve(3, 4);
    await until('the storm resolve', () => summary().length === 3);
    await settle();
    expect(summary()).toEqual(['trigger STORM(3)', 'trigger STORM(4)', 'resolve STORM(-)']);
    await dispatcher.shutdown();
  });

  it('below → above: incidents already open stay open and resolve on their own; the storm covers the rest', async () => {
    const { dispatcher, fire, resolve, summary, sent, log, key } = setUp();
    await dispatcher.start();
    fire(1, 2);
    await until('two triggers', () => summary().length === 2);
    fire(3, 4);
    await until('the storm', () => summary().length === 3);
    await settle();
    expect(summary().slice(2)).toEqual(['trigger STORM(4)']);
    expect(sent[2]!.alert.annotations).toMatchObject({ count: '4', paged_on_their_own: '2', examples: 'up-3, up-4' });
    resolve(1);
    await until('the single resolve', () => summary().length === 4);
    expect(summary()[3]).toBe('resolve fp-1');
    resolve(3, 4);
    await until('the storm resolve', () => summary().length === 5);
    expect(summary()[4]).toBe('resolve STORM(-)');
    expect(log.isOpen('pager', key)).toBe(false);
    expect(log.isOpen('pager', 'fp-2')).toBe(true);
    await dispatcher.shutdown();
  });

  it('survives a restart: the storm is in the notification log, nothing is sent again, a newcomer joins it', async () => {
    const first = setUp();
    await first.dispatcher.start();
    first.fire(1, 2, 3);
    await until('the storm', () => first.summary().length === 1);
    await first.dispatcher.shutdown();
    const saved = JSON.parse(JSON.stringify(first.log.state));

    const second = setUp(undefined, new InMemoryNotificationLog(saved));
    second.dispatcher.reconcile([late(1), late(2), late(3)], (a) => second.log.isOpenAnywhere(a.fingerprint));
    await second.dispatcher.start();
    await settle();
    expect(second.summary()).toEqual([]);
    second.fire(4);
    await until('the update', () => second.summary().length === 1);
    expect(second.summary()).toEqual(['trigger STORM(4)']);
    await second.dispatcher.shutdown();
  });

  it('a restart after the last covered alert resolved, before the storm\'s resolve went out, still resolves the storm', async () => {
    const first = setUp();
    await first.dispatcher.start();
    first.fire(1, 2, 3);
    await until('the storm', () => first.summary().length === 1);
    // The crash: the alerts resolved (and were saved so), the storm's resolve never sent.
    const saved = JSON.parse(JSON.stringify(first.log.state));
    await first.dispatcher.shutdown();

    const second = setUp(undefined, new InMemoryNotificationLog(saved));
    const restored = [late(1, 'resolved'), late(2, 'resolved'), late(3, 'resolved'), late(9, 'resolved')];
    expect(restored.map(resolvesOwed(second.log.state, restored))).toEqual([true, true, true, false]);
    const handed = second.dispatcher.reconcile(restored, resolvesOwed(second.log.state, restored));
    expect(handed).toEqual({ firing: 0, resolves: 3 });
    await second.dispatcher.start();
    await until('the storm resolve', () => second.summary().length === 1);
    await settle();
    expect(second.summary()).toEqual(['resolve STORM(-)']);
    expect(second.log.isOpen('pager', second.key)).toBe(false);
    // Once resolved there, a further restart owes nothing.
    expect(restored.map(resolvesOwed(second.log.state, restored))).toEqual([false, false, false, false]);
    await second.dispatcher.shutdown();
  });

  it('is not resolved by an instance that does not see every alert (others share its consumer group), and is once it does', async () => {
    let alone = false;
    const { dispatcher, fire, resolve, summary, log, key } = setUp(undefined, undefined, () => alone);
    await dispatcher.start();
    fire(1, 2, 3);
    await until('the storm', () => summary().length === 1);
    // This instance's share cleared; another's covered alerts may still fire: no resolve.
    resolve(1, 2, 3);
    await settle();
    expect(summary()).toEqual(['trigger STORM(3)']);
    expect(log.isOpen('pager', key)).toBe(true);
    // Alone in the group now (the others left): the next flush of the bucket resolves it.
    alone = true;
    fire(4);
    await until('the join', () => summary().length === 2);
    resolve(4);
    await until('the storm resolve', () => summary().length === 3);
    expect(summary()).toEqual(['trigger STORM(3)', 'trigger STORM(1)', 'resolve STORM(-)']);
    await dispatcher.shutdown();
  });

  it('is resolved by an instance that does not see every alert once the others have none of it firing, asked again at each flush of the group', async () => {
    const bucket = 'upgrade-late\u0000plan-upgrade';
    let othersFiring = true;
    const asked: [string, readonly string[]][] = [];
    const clearElsewhere: ClearElsewhere = async (receiver, buckets) => {
      asked.push([receiver, buckets]);
      return new Set(othersFiring ? [] : buckets);
    };
    const { dispatcher, fire, resolve, summary, log, key } = setUp(undefined, undefined, () => false, clearElsewhere);
    await dispatcher.start();
    fire(1, 2, 3);
    await until('the storm', () => summary().length === 1);
    expect(asked).toEqual([]);
    // This instance's share cleared; the others' covered alerts still fire: held, and asked again.
    resolve(1, 2, 3);
    await until('the others asked twice', () => asked.length >= 2);
    expect(summary()).toEqual(['trigger STORM(3)']);
    expect(log.isOpen('pager', key)).toBe(true);
    expect(asked[0]).toEqual(['pager', [bucket]]);
    // The others' alerts are over too: the next flush of the group resolves it, with no new alert.
    othersFiring = false;
    await until('the storm resolve', () => summary().length === 2);
    expect(summary()).toEqual(['trigger STORM(3)', 'resolve STORM(-)']);
    expect(log.isOpen('pager', key)).toBe(false);
    // Resolved: not asked about, nor sent, again.
    const askedThen = asked.length;
    await settle();
    expect(asked.length).toBe(askedThen);
    expect(summary()).toHaveLength(2);
    await dispatcher.shutdown();
  });

  it('resolves on the others\' word only when they say so twice, apart: an alert that joined there in between keeps it open', async () => {
    const answers: boolean[] = [];
    let next: boolean[] = [];
    const clearElsewhere: ClearElsewhere = async (_receiver, buckets) => {
      const clear = next.shift() ?? false;
      answers.push(clear);
      return new Set(clear ? buckets : []);
    };
    const { dispatcher, fire, resolve, summary } = setUp(undefined, undefined, () => false, clearElsewhere);
    await dispatcher.start();
    fire(1, 2, 3);
    await until('the storm', () => summary().length === 1);
    // Clear at the first read, not at the second (another instance's alert joined meanwhile).
    next = [true, false];
    resolve(1, 2, 3);
    await until('both reads', () => answers.length >= 2);
    await settle();
    expect(answers.slice(0, 2)).toEqual([true, false]);
    expect(summary()).toEqual(['trigger STORM(3)']);
    // Clear at both reads of a later flush: resolved.
    next = [true, true];
    await until('the storm resolve', () => summary().length === 2);
    expect(summary()).toEqual(['trigger STORM(3)', 'resolve STORM(-)']);
    await dispatcher.shutdown();
  });

  it('an instance that sees every alert never asks the others', async () => {
    const asked: string[] = [];
    const { dispatcher, fire, resolve, summary } = setUp(undefined, undefined, () => true, async (_receiver, buckets) => {
      asked.push(...buckets);
      return new Set();
    });
    await dispatcher.start();
    fire(1, 2, 3);
    await until('the storm', () => summary().length === 1);
    resolve(1, 2, 3);
    await until('the storm resolve', () => summary().length === 2);
    expect(asked).toEqual([]);
    await dispatcher.shutdown();
  });

  it('storm: false pages every problem on its own', async () => {
    const { dispatcher, fire, summary } = setUp(false);
    await dispatcher.start();
    fire(1, 2, 3, 4);
    await until('four triggers', () => summary().length === 4);
    await settle();
    expect(summary()).toHaveLength(4);
    await dispatcher.shutdown();
  });

  it('is on by default at 10 alerts, and validated', () => {
    expect(receiversSchema.parse([{ name: 'p', pagerduty: { routingKeyEnv: 'K' } }])[0]).toMatchObject({ pagerduty: { storm: { threshold: 10, examples: 5 } } });
    const bad = receiversSchema.safeParse([{ name: 'p', pagerduty: { routingKeyEnv: 'K', storm: { threshold: 1 } } }]);
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n')).toContain('at least 2');
  });
});
