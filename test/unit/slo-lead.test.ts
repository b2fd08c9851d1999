import { describe, expect, it } from 'vitest';
import { SloLead, leadsGroup, type HandOverOptions } from '../../src/slo/lead.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { MemorySloStore } from '../support/memory-slo-store.ts';

/** Records what the lead asks of the engine and the alert state, in order. */
function parts(options: { adoptFailures?: number; adoptWaitsFor?: Promise<void>; handOver?: HandOverOptions } = {}) {
  const calls: string[] = [];
  let failures = options.adoptFailures ?? 0;
  const lead = new SloLead({
    engine: { lead: async (on) => void calls.push(`engine ${on}`) },
    alerts: {
      adopt: async () => {
        calls.push('adopt');
        await options.adoptWaitsFor;
        if (failures-- > 0) throw new Error('store down');
      },
      save: async () => void calls.push('save'),
      release: () => void calls.push('release'),
    },
    logger: silentLogger(),
    leading: (on) => void calls.push(`gauge ${on ? 1 : 0}`),
    ...(options.handOver ? { handOver: options.handOver } : {}),
  });
  return { lead, calls };
}

describe('the SLO lead of a consumer group', () => {
  it('is the instance whose assignment holds partition 0 of a topic', () => {
    expect(leadsGroup({ crm: [0, 2], billing: [0, 2] })).toBe(true);
    expect(leadsGroup({ crm: [1, 3], billing: [1, 3] })).toBe(false);
    expect(leadsGroup({})).toBe(false);
  });

  it('takes the burn alerts over before the engine pages, and saves them before it hands them over', async () => {
    const { lead, calls } = parts();
    await lead.set(true);
    expect(lead.leading).toBe(true);
    // The same again (a rebalance that kept partition 0) changes nothing.
    await lead.set(true);
    await lead.set(false);
    expect(lead.leading).toBe(false);
    expect(calls).toEqual(['adopt', 'engine true', 'gauge 1', 'engine false', 'save', 'release', 'gauge 0']);
  });

  it('takes changes one at a time: a lead lost while its alerts were being read never pages, and lets them go', async () => {
    let read!: () => void;
    const { lead, calls } = parts({ adoptWaitsFor: new Promise<void>((resolve) => (read = resolve)) });
    const first = lead.set(true);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const second = lead.set(false);
    read();
    await Promise.all([first, second]);
    expect(lead.leading).toBe(false);
    expect(calls).toEqual(['adopt', 'release']);
    // Changes faster than they are taken: only the last counts.
    calls.length = 0;
    await Promise.all([lead.set(true), lead.set(false)]);
    expect(calls).toEqual([]);
  });

  it('retries taking the lead while the store cannot be read, and pages only once it could', async () => {
    const { lead, calls } = parts({ adoptFailures: 1 });
    await lead.set(true);
    expect(calls).toEqual(['adopt', 'adopt', 'engine true', 'gauge 1']);
    expect(lead.leading).toBe(true);
  });

  it('stops retrying when the lead is given up meanwhile (a rebalance, a stop) and never pages', async () => {
    const { lead, calls } = parts({ adoptFailures: 1_000 });
    const taking = lead.set(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await lead.shutdown();
    await taking;
    expect(calls.every((c) => c === 'adopt')).toBe(true);
    expect(lead.leading).toBe(false);
    // Stopped: a late assignment does not make it lead again.
    await lead.set(true);
    expect(lead.leading).toBe(false);
  });

  describe('handed over between two instances', () => {
    const KEY = 'alerts:g:slo-holder';
    const holder = (store: MemorySloStore) => JSON.parse(store.documents.get(KEY) ?? 'null') as { holder: string; state: string } | null;

    it('a new lead waits until the last one has saved and let go: the two never page at once', async () => {
      const store = new MemorySloStore();
      const a = parts({ handOver: { store: store.asStore(), key: KEY, instance: 'a', heartbeatMs: 50 } });
      const b = parts({ handOver: { store: store.asStore(), key: KEY, instance: 'b', heartbeatMs: 50 } });
      await a.lead.set(true);
      expect(holder(store)).toMatchObject({ holder: 'a', state: 'holding' });
      // A rebalance: B is told it holds partition 0 before A let go.
      const taking = b.lead.set(true);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(b.calls).toEqual([]);
      await a.lead.set(false);
      await taking;
      expect(a.calls.slice(-3)).toEqual(['save', 'release', 'gauge 0']);
      expect(b.calls).toEqual(['adopt', 'engine true', 'gauge 1']);
      expect(holder(store)).toMatchObject({ holder: 'b', state: 'holding' });
    });

    it('a holder gone (no heartbeat for three) is not waited for', async () => {
      const store = new MemorySloStore();
      store.documents.set(KEY, JSON.stringify({ holder: 'dead', state: 'holding', at: Date.now() - 1_000 }));
      const b = parts({ handOver: { store: store.asStore(), key: KEY, instance: 'b', heartbeatMs: 50, waitMs: 60_000 } });
      await b.lead.set(true);
      expect(b.lead.leading).toBe(true);
    });

    it('a take-over given up while it waits and then wanted again (two rebalances) still waits for the hand-over', async () => {
      const store = new MemorySloStore();
      const a = parts({ handOver: { store: store.asStore(), key: KEY, instance: 'a', heartbeatMs: 50 } });
      const b = parts({ handOver: { store: store.asStore(), key: KEY, instance: 'b', heartbeatMs: 50 } });
      await a.lead.set(true);
      const first = b.lead.set(true);
      await new Promise((resolve) => setTimeout(resolve, 100));
      // kafkajs says REBALANCING, then GROUP_JOIN with partition 0 again.
      void b.lead.set(false);
      const again = b.lead.set(true);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(b.lead.leading).toBe(false);
      expect(b.calls).toEqual([]);
      await a.lead.set(false);
      await Promise.all([first, again]);
      expect(b.lead.leading).toBe(true);
      expect(b.calls).toEqual(['adopt', 'engine true', 'gauge 1']);
      await b.lead.shutdown();
    });

    it('an assignment that comes in while it stops is not taken: stopped means not leading, and no heartbeat', async () => {
      const store = new MemorySloStore();
      const a = parts({ handOver: { store: store.asStore(), key: KEY, instance: 'a', heartbeatMs: 50 } });
      const b = parts({ handOver: { store: store.asStore(), key: KEY, instance: 'b', heartbeatMs: 50 } });
      await a.lead.set(true);
      const taking = b.lead.set(true);
      const stopping = b.lead.shutdown();
      void b.lead.set(true);
      await a.lead.set(false);
      await Promise.all([taking, stopping]);
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(b.lead.leading).toBe(false);
      expect(b.calls).toEqual([]);
      expect(holder(store)).toMatchObject({ holder: 'a', state: 'released' });
    });

    it('a holder that renews the lead and never lets go is waited for waitMs, then overruled', async () => {
      const store = new MemorySloStore();
      const a = parts({ handOver: { store: store.asStore(), key: KEY, instance: 'a', heartbeatMs: 50 } });
      const b = parts({ handOver: { store: store.asStore(), key: KEY, instance: 'b', heartbeatMs: 50, waitMs: 400 } });
      await a.lead.set(true);
      const started = Date.now();
      await b.lead.set(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
      expect(b.lead.leading).toBe(true);
      // A sees at its next heartbeat that B holds the lead now, and gives it up without taking the document back.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(a.lead.leading).toBe(false);
      expect(a.calls.slice(-3)).toEqual(['save', 'release', 'gauge 0']);
      expect(holder(store)).toMatchObject({ holder: 'b', state: 'holding' });
      await b.lead.shutdown();
    });
  });
});
