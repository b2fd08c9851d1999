import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AlertDispatcher } from '../../src/alerts/dispatcher.ts';
import { InMemoryNotificationLog } from '../../src/alerts/notify/notification-log.ts';
import type { DeliveryReport, Notification } from '../../src/alerts/notify/receiver.ts';
import type { ManagedReceiver } from '../../src/alerts/receivers/managed-receiver.ts';
import { toWebhookPayload } from '../../src/alerts/receivers/webhook-payload.ts';
import { routingTreeSchema } from '../../src/alerts/routing/config.ts';
import { buildRoutingTree } from '../../src/alerts/routing/tree.ts';
import { SilenceRegistry } from '../../src/alerts/silences/silence-store.ts';
import type { Alert } from '../../src/alerts/types.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

/** Writes down what it was told; fails the next `failures` notifications. */
class ScriptedReceiver implements ManagedReceiver {
  readonly name = 'pager';
  readonly told: string[] = [];
  failures = 0;
  /** Answers like a receiver that rejects the body (a 4xx): refused, not failed. */
  refuses = false;
  started = 0;
  stopped = 0;
  async start() {
    this.started++;
  }
  async shutdown() {
    this.stopped++;
  }
  async notify(n: Notification): Promise<DeliveryReport> {
    const failing = this.failures > 0;
    if (failing) this.failures--;
    this.told.push(`firing=[${n.firing.map((a) => a.fingerprint)}] resolved=[${n.resolved.map((a) => a.fingerprint)}]${failing ? ' FAILED' : ''}${this.refuses ? ' REFUSED' : ''}`);
    const all = [...n.firing, ...n.resolved];
    if (this.refuses) return { failed: [], refused: all.map((a) => ({ fingerprint: a.fingerprint, reason: '400' })) };
    return { failed: failing ? all.map((a) => ({ fingerprint: a.fingerprint, reason: '503' })) : [] };
  }
}

const alert = (fingerprint: string, state: 'firing' | 'resolved'): Alert => ({
  fingerprint,
  labels: { alertname: 'stuck-ticket', team: 'support-ops', severity: 'warning' },
  annotations: { summary: `ticket ${fingerprint} stuck` },
  state,
  startsAt: Date.now(),
  endsAt: state === 'resolved' ? Date.now() + 1 : 0,
  generatorUrl: `http://seamwatch/traces/${fingerprint}`,
});

const until = async (what: string, ok: () => boolean) => {
  const end = Date.now() + 3_000;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

function setUp(log?: InMemoryNotificationLog) {
  const receiver = new ScriptedReceiver();
  const silences = new SilenceRegistry();
  const tree = buildRoutingTree(routingTreeSchema.parse({ receiver: 'pager', group_by: ['team'], group_wait: '0s', group_interval: '50ms' }));
  const dispatcher = new AlertDispatcher({ tree, receivers: [receiver], inhibitRules: [], timeIntervals: [], silences: () => silences.list(), registry: new Registry(), logger: silentLogger(), ...(log ? { log } : {}) });
  return { receiver, dispatcher, silences };
}

describe('AlertDispatcher', () => {
  it('counts a refused notification (a 4xx) as refused, not delivered: no resolve is owed and it is not sent again as it is', async () => {
    const log = new InMemoryNotificationLog();
    const registry = new Registry();
    const receiver = new ScriptedReceiver();
    receiver.refuses = true;
    const tree = buildRoutingTree(routingTreeSchema.parse({ receiver: 'pager', group_by: ['team'], group_wait: '0s', group_interval: '50ms' }));
    const dispatcher = new AlertDispatcher({ tree, receivers: [receiver], inhibitRules: [], timeIntervals: [], registry, logger: silentLogger(), log });
    await dispatcher.start();
    dispatcher.take({ kind: 'firing', alert: alert('a', 'firing') });
    await until('the refusal', () => receiver.told.length === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.told).toEqual(['firing=[a] resolved=[] REFUSED']);
    expect(log.isOpen('pager', 'a')).toBe(false);
    const outcomes = (await registry.getSingleMetric('seamwatch_notifications_total')!.get()).values.map((v) => `${v.labels.outcome}=${v.value}`);
    expect(outcomes).toEqual(expect.arrayContaining(['delivered=0', 'refused=1', 'failed=0']));
    await dispatcher.shutdown();
  });

  it('forgets alerts whose partition moved to another instance: it neither triggers nor resolves them', async () => {
    const { receiver, dispatcher } = setUp();
    dispatcher.take({ kind: 'firing', alert: alert('moved', 'firing') });
    dispatcher.take({ kind: 'firing', alert: alert('kept', 'firing') });
    dispatcher.forget(new Set(['moved']));
    await dispatcher.start();
    await until('the notification', () => receiver.told.length === 1);
    dispatcher.forget(new Set(['kept']));
    dispatcher.take({ kind: 'firing', alert: alert('later', 'firing') });
    await until('the second', () => receiver.told.length === 2);
    await new Promise((r) => setTimeout(r, 150));
    expect(receiver.told).toEqual(['firing=[kept] resolved=[]', 'firing=[later] resolved=[]']);
    await dispatcher.shutdown();
  });

  it('after a restart, routes restored firing alerts again and owes a resolve only to alerts a receiver still has open', async () => {
    // What the restored notification log says: the pager was sent one trigger, never its resolve.
    const log = new InMemoryNotificationLog();
    log.record('pager', 'before-the-restart', { firing: ['paged-then-over'], resolved: [] }, 0);
    const { receiver, dispatcher } = setUp(log);
    const handed = dispatcher.reconcile(
      [alert('firing-unsent', 'firing'), alert('paged-then-over', 'resolved'), alert('never-paged-over', 'resolved'), { ...alert('not-yet', 'firing'), state: 'pending' }],
      (a) => log.isOpenAnywhere(a.fingerprint),
    );
    expect(handed).toEqual({ firing: 1, resolves: 1 });
    await dispatcher.start();
    await until('the notification', () => receiver.told.length === 1);
    await new Promise((r) => setTimeout(r, 150));
    expect(receiver.told).toEqual(['firing=[firing-unsent] resolved=[paged-then-over]']);
    await dispatcher.shutdown();
  });

  it('notifies firing and resolved alerts, and tells nothing twice', async () => {
    const { receiver, dispatcher } = setUp();
    await dispatcher.start();
    dispatcher.take({ kind: 'firing', alert: alert('a', 'firing') });
    dispatcher.take({ kind: 'pending', alert: { ...alert('b', 'firing'), state: 'pending' } });
    await until('the trigger', () => receiver.told.length === 1);
    dispatcher.take({ kind: 'resolved', alert: alert('a', 'resolved') });
    await until('the resolve', () => receiver.told.length === 2);
    await new Promise((r) => setTimeout(r, 150));
    expect(receiver.told).toEqual(['firing=[a] resolved=[]', 'firing=[] resolved=[a]']);
    await dispatcher.shutdown();
  });

  it('sends a trigger that was not delivered again at the next flush', async () => {
    const { receiver, dispatcher } = setUp();
    receiver.failures = 1;
    await dispatcher.start();
    dispatcher.take({ kind: 'firing', alert: alert('a', 'firing') });
    await until('the second try', () => receiver.told.length === 2);
    await new Promise((r) => setTimeout(r, 150));
    expect(receiver.told).toEqual(['firing=[a] resolved=[] FAILED', 'firing=[a] resolved=[]']);
    await dispatcher.shutdown();
  });

  it('gives an undelivered resolve back to its group, and sends it again', async () => {
    const { receiver, dispatcher } = setUp();
    await dispatcher.start();
    dispatcher.take({ kind: 'firing', alert: alert('a', 'firing') });
    await until('the trigger', () => receiver.told.length === 1);
    receiver.failures = 1;
    dispatcher.take({ kind: 'resolved', alert: alert('a', 'resolved') });
    await until('the resolve, again', () => receiver.told.length === 3);
    await new Promise((r) => setTimeout(r, 150));
    expect(receiver.told).toEqual(['firing=[a] resolved=[]', 'firing=[] resolved=[a] FAILED', 'firing=[] resolved=[a]']);
    await dispatcher.shutdown();
  });

  it('does not page a silenced firing alert, but still resolves one paged before the silence', async () => {
    const { receiver, dispatcher, silences } = setUp();
    await dispatcher.start();
    dispatcher.take({ kind: 'firing', alert: alert('a', 'firing') });
    await until('the trigger', () => receiver.told.length === 1);
    const silence = silences.create({ matchers: 'team="support-ops"', endsAt: Date.now() + 3_600_000, createdBy: 'ana', comment: 'ticket backlog migration' }, Date.now());
    expect(silence.ok).toBe(true);
    dispatcher.take({ kind: 'firing', alert: alert('b', 'firing') });
    await new Promise((r) => setTimeout(r, 150));
    expect(receiver.told).toEqual(['firing=[a] resolved=[]']);
    dispatcher.take({ kind: 'resolved', alert: alert('a', 'resolved') });
    dispatcher.take({ kind: 'resolved', alert: alert('b', 'resolved') });
    await until('the resolve', () => receiver.told.length === 2);
    await new Promise((r) => setTimeout(r, 150));
    // b was never paged, so it is owed no resolve.
    expect(receiver.told).toEqual(['firing=[a] resolved=[]', 'firing=[] resolved=[a]']);
    await dispatcher.shutdown();
  });

  it('reads the silences at each flush: an alert silenced when it fired is paged once the silence is expired', async () => {
    const { receiver, dispatcher, silences } = setUp();
    const created = silences.create({ matchers: 'team="support-ops"', endsAt: Date.now() + 3_600_000, createdBy: 'ana', comment: 'ticket backlog migration' }, Date.now());
    await dispatcher.start();
    dispatcher.take({ kind: 'firing', alert: alert('a', 'firing') });
    await new Promise((r) => setTimeout(r, 120));
    expect(receiver.told).toEqual([]);
    expect(created.ok && silences.expire(created.silence.id, Date.now()).ok).toBe(true);
    await until('the trigger', () => receiver.told.length === 1);
    expect(receiver.told).toEqual(['firing=[a] resolved=[]']);
    await dispatcher.shutdown();
  });

  it('dispatches changes taken before start, and shutdown is idempotent and safe before start', async () => {
    const { receiver, dispatcher } = setUp();
    dispatcher.take({ kind: 'firing', alert: alert('a', 'firing') });
    await new Promise((r) => setTimeout(r, 20));
    expect(receiver.told).toEqual([]);
    await dispatcher.start();
    await dispatcher.start();
    await until('the trigger', () => receiver.told.length === 1);
    await Promise.all([dispatcher.shutdown(), dispatcher.shutdown()]);
    expect([receiver.started, receiver.stopped]).toEqual([1, 1]);
    dispatcher.take({ kind: 'firing', alert: alert('b', 'firing') });
    await new Promise((r) => setTimeout(r, 20));
    expect(receiver.told).toHaveLength(1);

    const never = setUp();
    await never.dispatcher.shutdown();
    expect(never.dispatcher.lifecycle).toBe('stopped');
    await expect(never.dispatcher.start()).rejects.toThrow('cannot start after shutdown');
  });
});

describe('the webhook payload', () => {
  it('has Alertmanager\'s version 4 shape', () => {
    const firing = { ...alert('a', 'firing'), startsAt: Date.parse('2026-11-20T09:00:00Z'), labels: { team: 'support-ops', detector: 'stuck-ticket', severity: 'warning' } };
    const resolved = { ...alert('b', 'resolved'), startsAt: Date.parse('2026-11-20T09:00:00Z'), endsAt: Date.parse('2026-11-20T10:00:00Z'), labels: { team: 'support-ops', detector: 'stuck-ticket', severity: 'critical' } };
    const n: Notification = { receiver: 'hook', groupKey: '/:{team="support-ops"}', groupLabels: { team: 'support-ops' }, firing: [firing], resolved: [resolved], reason: 'new_alerts', at: 0 };
    expect(toWebhookPayload(n, 'http://seamwatch:9470')).toEqual({
      version: '4',
      groupKey: '/:{team="support-ops"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'hook',
      groupLabels: { team: 'support-ops' },
      commonLabels: { team: 'support-ops', detector: 'stuck-ticket' },
      commonAnnotations: {},
      externalURL: 'http://seamwatch:9470',
      alerts: [
        { status: 'firing', labels: firing.labels, annotations: firing.annotations, startsAt: '2026-11-20T09:00:00.000Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://seamwatch/traces/a', fingerprint: 'a' },
        { status: 'resolved', labels: resolved.labels, annotations: resolved.annotations, startsAt: '2026-11-20T09:00:00.000Z', endsAt: '2026-11-20T10:00:00.000Z', generatorURL: 'http://seamwatch/traces/b', fingerprint: 'b' },
      ],
    });
    expect(toWebhookPayload({ ...n, firing: [] }, '').status).toBe('resolved');
  });
});
