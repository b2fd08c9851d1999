import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AlertDispatcher } from '../../src/alerts/dispatcher.ts';
import { InMemoryNotificationLog } from '../../src/alerts/notify/notification-log.ts';
import type { DeliveryReport, Notification } from '../../src/alerts/notify/receiver.ts';
import type { ManagedReceiver } from '../../src/alerts/receivers/managed-receiver.ts';
import { routingTreeSchema } from '../../src/alerts/routing/config.ts';
import { dispatch, EMPTY_DISPATCH } from '../../src/alerts/routing/grouping.ts';
import { buildRoutingTree } from '../../src/alerts/routing/tree.ts';
import { SilenceRegistry } from '../../src/alerts/silences/silence-store.ts';
import type { Alert } from '../../src/alerts/types.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

const T0 = Date.UTC(2026, 10, 23, 9);

const missed = (run: string, at: number, state: 'firing' | 'resolved' = 'firing'): Alert => ({
  fingerprint: `fp-${run}`,
  labels: { alertname: 'upgrade-late', detector: 'upgrade-late', team: 'billing-platform', severity: 'error', workflow: 'plan-upgrade' },
  annotations: { summary: `upgrade ${run} late`, correlation_id: run },
  state,
  startsAt: at,
  endsAt: state === 'resolved' ? at + 1 : 0,
  generatorUrl: `http://seamwatch/traces/${run}`,
});

/** When the dispatcher, driven as it drives itself, first hands `fingerprint` to the chain. */
function firstFlushOf(tree: ReturnType<typeof buildRoutingTree>, arrivals: [number, Alert][], fingerprint: string, until: number): number | undefined {
  let state = EMPTY_DISPATCH;
  let wake: number | undefined;
  const queue = [...arrivals];
  let now = arrivals[0]![0];
  while (now <= until) {
    const due = queue.filter(([at]) => at <= now);
    queue.splice(0, due.length);
    const step = dispatch(state, tree, due.map(([, a]) => a), now);
    state = step.state;
    if (step.flushes.some((f) => f.alerts.some((a) => a.fingerprint === fingerprint && a.state === 'firing'))) return now;
    wake = step.nextWakeAt;
    now = Math.min(wake ?? Infinity, queue[0]?.[0] ?? Infinity);
    if (!Number.isFinite(now)) return undefined;
  }
  return undefined;
}

describe('default grouping pages a new problem within seconds', () => {
  const tree = buildRoutingTree(routingTreeSchema.parse({ receiver: 'pager' }));

  it('a problem that joins a group already paged is flushed within 2 s, not at a 5-minute group_interval', () => {
    const first = missed('run-1', T0);
    const joining = missed('run-2', T0 + 10_000);
    const flushedAt = firstFlushOf(tree, [[T0, first], [T0 + 10_000, joining]], joining.fingerprint, T0 + 600_000);
    expect(flushedAt).toBeDefined();
    expect(flushedAt! - (T0 + 10_000)).toBeLessThanOrEqual(2_000);
  });

  it('the first problem of a new group is flushed within 2 s', () => {
    const first = missed('run-1', T0);
    expect(firstFlushOf(tree, [[T0, first]], first.fingerprint, T0 + 600_000)! - T0).toBeLessThanOrEqual(2_000);
  });

  it('groups by problem kind by default: detector (alertname), team and workflow', () => {
    expect(tree.root.options.groupBy).toEqual(['alertname', 'team', 'workflow']);
    expect(tree.root.options.repeatIntervalMs).toBe(4 * 3_600_000);
  });
});

class CountingReceiver implements ManagedReceiver {
  readonly name = 'pager';
  told = 0;
  async start() {}
  async shutdown() {}
  async notify(_n: Notification): Promise<DeliveryReport> {
    this.told++;
    return { failed: [] };
  }
}

const until = async (what: string, ok: () => boolean) => {
  const end = Date.now() + 3_000;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

async function outcomes(registry: Registry): Promise<Record<string, number>> {
  const values = (await registry.getSingleMetric('seamwatch_notifications_total')!.get()).values;
  return Object.fromEntries(values.map((v) => [String(v.labels.outcome), v.value]));
}

describe('seamwatch_notifications_total outcomes', () => {
  it('an alert already told, held by dedup at later flushes, is "unchanged", never "muted"', async () => {
    const registry = new Registry();
    const receiver = new CountingReceiver();
    const tree = buildRoutingTree(routingTreeSchema.parse({ receiver: 'pager', group_by: ['team'], group_wait: '0s', group_interval: '20ms' }));
    const dispatcher = new AlertDispatcher({ tree, receivers: [receiver], inhibitRules: [], timeIntervals: [], registry, logger: silentLogger(), log: new InMemoryNotificationLog() });
    await dispatcher.start();
    dispatcher.take({ kind: 'firing', alert: missed('run-1', Date.now()) });
    await until('the page', () => receiver.told === 1);
    await new Promise((r) => setTimeout(r, 150));
    const counted = await outcomes(registry);
    await dispatcher.shutdown();
    expect(receiver.told).toBe(1);
    expect(counted['delivered']).toBe(1);
    expect(counted['muted']).toBe(0);
    expect(counted['unchanged']).toBeGreaterThan(0);
  });

  it('an alert held back by a silence is "muted"', async () => {
    const registry = new Registry();
    const receiver = new CountingReceiver();
    const silences = new SilenceRegistry();
    silences.create({ matchers: 'team="billing-platform"', endsAt: Date.now() + 3_600_000, createdBy: 't', comment: 'c' }, Date.now());
    const tree = buildRoutingTree(routingTreeSchema.parse({ receiver: 'pager', group_by: ['team'], group_wait: '0s', group_interval: '10s' }));
    const dispatcher = new AlertDispatcher({ tree, receivers: [receiver], inhibitRules: [], timeIntervals: [], silences: () => silences.list(), registry, logger: silentLogger(), log: new InMemoryNotificationLog() });
    await dispatcher.start();
    dispatcher.take({ kind: 'firing', alert: missed('run-1', Date.now()) });
    await new Promise((r) => setTimeout(r, 100));
    const counted = await outcomes(registry);
    await dispatcher.shutdown();
    expect(receiver.told).toBe(0);
    expect(counted['muted']).toBe(1);
    expect(counted['unchanged']).toBe(0);
  });
});
