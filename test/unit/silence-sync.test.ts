import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AlertEngine } from '../../src/alerts/engine.ts';
import { detectorsSchema } from '../../src/alerts/detectors/config.ts';
import { InMemoryNotificationLog } from '../../src/alerts/notify/notification-log.ts';
import { PartitionedAlertState } from '../../src/alerts/partition-state.ts';
import { SilenceRegistry } from '../../src/alerts/silences/silence-store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { MemorySloStore } from '../support/memory-slo-store.ts';

const T = Date.UTC(2026, 10, 30, 9);

/** One instance's alert state over a shared store's documents (the store itself is tested against ClickHouse). */
function instance(store: MemorySloStore, name: string) {
  let n = 0;
  const silences = new SilenceRegistry({ newId: () => `${name}${++n}` });
  const alerts = new AlertEngine({
    detectors: detectorsSchema.parse({}),
    workflows: [],
    lifecycle: { pendingFor: 0, keepFiringFor: 0, traceUrlBase: 'http://seamwatch/traces/' },
    registry: new Registry(),
    logger: silentLogger(),
  });
  const state = new PartitionedAlertState({ store: store.asStore(), base: 'alerts:g', alerts, log: new InMemoryNotificationLog(), silences, dispatcher: undefined, logger: silentLogger() });
  return { silences, state };
}

/** Instances a and b of one consumer group over one document store. */
function twoInstances() {
  const store = new MemorySloStore();
  return { store, a: instance(store, 'a'), b: instance(store, 'b') };
}

const input = (comment: string) => ({ matchers: 'team="billing"', endsAt: T + 7_200_000, createdBy: 'ana@example.com', comment });
const stored = (store: MemorySloStore) => (JSON.parse(store.documents.get('alerts:g:global') ?? '{"silences":[]}') as { silences: { id: string }[] }).silences.map((s) => s.id).sort();

describe('silences across the instances of one consumer group (PartitionedAlertState.syncSilences)', () => {
  it('takes in what another instance saved, and puts its own back when another save left them out', async () => {
    const { store, a, b } = twoInstances();
    a.silences.create(input('billing deploy'), T);
    await a.state.persistence.save();
    expect(stored(store)).toEqual(['a1']);
    // B saves before it ever read the shared document: its save leaves A's silence out.
    b.silences.create(input('ticketing deploy'), T);
    await b.state.persistence.save();
    expect(stored(store)).toEqual(['b1']);
    // A reads it: takes B's in, and writes its own back at once, though nothing of it changed.
    expect(await a.state.syncSilences(T + 1_000)).toBe(true);
    await a.state.persistence.save();
    expect(stored(store)).toEqual(['a1', 'b1']);
    // B reads it: now both hold both, and nothing is written again.
    expect(await b.state.syncSilences(T + 2_000)).toBe(true);
    expect(b.silences.list().map((s) => s.id).sort()).toEqual(['a1', 'b1']);
    const saves = store.saves;
    await a.state.syncSilences(T + 3_000);
    await b.state.syncSilences(T + 3_000);
    await a.state.persistence.save();
    await b.state.persistence.save();
    expect(store.saves).toBe(saves + 1);
  });

  it('puts its silences back when a save of another instance left them out, though it took nothing in', async () => {
    const { store, a, b } = twoInstances();
    b.silences.create(input('ticketing deploy'), T);
    await b.state.persistence.save();
    a.silences.create(input('billing deploy'), T);
    await a.state.syncSilences(T + 1_000);
    await a.state.persistence.save();
    expect(stored(store)).toEqual(['a1', 'b1']);
    // B saves again (its own alerts changed, say) before it read A's silence: the shared document loses it.
    const shared = JSON.parse(store.documents.get('alerts:g:global')!) as { silences: { id: string }[] };
    store.documents.set('alerts:g:global', JSON.stringify({ ...shared, silences: shared.silences.filter((x) => x.id !== 'a1') }));
    expect(stored(store)).toEqual(['b1']);
    // A has nothing to take in, yet writes its silence back at once.
    expect(await a.state.syncSilences(T + 2_000)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(stored(store)).toEqual(['a1', 'b1']);
    expect(await b.state.syncSilences(T + 3_000)).toBe(true);
    expect(b.silences.get('a1')?.comment).toBe('billing deploy');
  });
});
