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
/** The silences in the store, each a document of its own, by id. */
const stored = (store: MemorySloStore) =>
  Object.fromEntries([...store.documents].filter(([key]) => key.startsWith('alerts:g:silence:')).map(([, doc]) => JSON.parse(doc) as { id: string; comment: string; updatedAt: number }).map((s) => [s.id, s]));

describe('silences across the instances of one consumer group (PartitionedAlertState.syncSilences)', () => {
  it("keeps each silence in a document of its own: one instance's save never leaves another's silence out", async () => {
    const { store, a, b } = twoInstances();
    a.silences.create(input('billing deploy'), T);
    await a.state.save();
    // B saves before it ever read A's silence: A's stays in the store.
    b.silences.create(input('ticketing deploy'), T);
    await b.state.save();
    expect(Object.keys(stored(store)).sort()).toEqual(['a1', 'b1']);
    // No silence rides in the shared document any more.
    expect(JSON.parse(store.documents.get('alerts:g:global')!).silences).toBeUndefined();
    expect(await a.state.syncSilences(T + 1_000)).toBe(true);
    expect(await b.state.syncSilences(T + 1_000)).toBe(true);
    for (const { silences } of [a, b]) expect(silences.list().map((s) => s.id).sort()).toEqual(['a1', 'b1']);
    // What each took in is not written back, and nothing is written again.
    const saves = store.saves;
    await a.state.save();
    await b.state.save();
    await a.state.syncSilences(T + 3_000);
    await b.state.syncSilences(T + 3_000);
    await a.state.save();
    await b.state.save();
    expect(store.saves).toBe(saves);
  });

  it('an expiry made through one instance ends the silence at the other, and the store keeps the expiry', async () => {
    const { store, a, b } = twoInstances();
    a.silences.create(input('billing deploy'), T);
    await a.state.save();
    await b.state.syncSilences(T + 1_000);
    expect(b.silences.expire('a1', T + 2_000).ok).toBe(true);
    await b.state.save();
    expect(stored(store)['a1']!.updatedAt).toBe(T + 2_000);
    expect(await a.state.syncSilences(T + 3_000)).toBe(true);
    expect(a.silences.get('a1')!.endsAt).toBe(T + 2_000);
    // A's next save does not bring its older copy back.
    await a.state.save();
    expect(stored(store)['a1']!.updatedAt).toBe(T + 2_000);
  });

  it('when two instances change one silence at once, the newer change wins at both and in the store', async () => {
    const { store, a, b } = twoInstances();
    a.silences.create(input('billing deploy'), T);
    await a.state.save();
    await b.state.syncSilences(T + 1_000);
    // Both change it before either read the other's change; B's is the newer, but A saves last.
    expect(b.silences.update('a1', input('billing deploy, longer'), T + 2_000).ok).toBe(true);
    await b.state.save();
    expect(a.silences.update('a1', input('billing deploy, shorter'), T + 1_500).ok).toBe(true);
    await a.state.save();
    expect(stored(store)['a1']!.comment).toBe('billing deploy, shorter');
    // The store has A's older change now. B reads it, keeps its own newer one and writes it back.
    expect(await b.state.syncSilences(T + 3_000)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(stored(store)['a1']!.comment).toBe('billing deploy, longer');
    expect(await a.state.syncSilences(T + 4_000)).toBe(true);
    expect(a.silences.get('a1')!.comment).toBe('billing deploy, longer');
  });

  it("takes in the silences an older version kept in the shared document, and saves each in its own", async () => {
    const store = new MemorySloStore();
    const silence = { id: 'old1', matchers: [{ name: 'team', value: 'billing', type: '=' }], startsAt: T, endsAt: T + 7_200_000, createdBy: 'ana@example.com', comment: 'from before', updatedAt: T };
    store.documents.set('alerts:g:global', JSON.stringify({ alerts: [], notificationLog: { entries: {}, open: {} }, silences: [silence] }));
    const a = instance(store, 'a');
    await a.state.loadShared();
    expect(a.silences.get('old1')?.comment).toBe('from before');
    await a.state.save();
    expect(stored(store)['old1']!.comment).toBe('from before');
    const b = instance(store, 'b');
    await b.state.loadShared();
    expect(b.silences.get('old1')?.comment).toBe('from before');
  });

  it('takes in silences instances of an older version keep making in the shared document during a rolling upgrade', async () => {
    const { store, a } = twoInstances();
    await a.state.loadShared();
    const silence = { id: 'old2', matchers: [{ name: 'team', value: 'billing', type: '=' }], startsAt: T, endsAt: T + 7_200_000, createdBy: 'bob@example.com', comment: 'made through an old pod', updatedAt: T };
    store.documents.set('alerts:g:global', JSON.stringify({ alerts: [], notificationLog: { entries: {}, open: {} }, silences: [silence] }));
    expect(await a.state.syncSilences(T + 1_000)).toBe(true);
    expect(a.silences.get('old2')?.comment).toBe('made through an old pod');
  });

  it.each([
    ['a', 'b'],
    ['b', 'a'],
  ])('two different changes of one silence in the same millisecond (%s saves last): both instances and the store settle on the same one, and stop writing', async (first, last) => {
    const { store, a, b } = twoInstances();
    const of = { a, b };
    a.silences.create(input('billing deploy'), T);
    await a.state.save();
    await b.state.syncSilences(T + 1_000);
    expect(a.silences.update('a1', input('from a'), T + 2_000).ok).toBe(true);
    expect(b.silences.update('a1', input('from b'), T + 2_000).ok).toBe(true);
    await of[first as 'a' | 'b'].state.save();
    await of[last as 'a' | 'b'].state.save();
    for (let round = 0; round < 3; round++) {
      await a.state.syncSilences(T + 3_000);
      await b.state.syncSilences(T + 3_000);
      await a.state.save();
      await b.state.save();
    }
    const winner = a.silences.get('a1')!.comment;
    expect(b.silences.get('a1')!.comment).toBe(winner);
    expect(stored(store)['a1']!.comment).toBe(winner);
    const saves = store.saves;
    await a.state.syncSilences(T + 4_000);
    await b.state.syncSilences(T + 4_000);
    await a.state.save();
    await b.state.save();
    expect(store.saves).toBe(saves);
  });
});

describe("the SLO lead's alerts at the other instances", () => {
  it('are read with the silences, listed and used for inhibition where this instance does not lead, and moved out of an older shared document at start', async () => {
    const store = new MemorySloStore();
    const burn = { alert: { fingerprint: 'burn', labels: { detector: 'slo-burn', workflow: 'plan-upgrade' }, annotations: {}, state: 'firing', startsAt: T, endsAt: 0, generatorUrl: '' }, firesAt: T, resolvesAt: Number.POSITIVE_INFINITY, fired: true };
    // An older version kept the burn in the shared document.
    store.documents.set('alerts:g:global', JSON.stringify({ alerts: [burn], notificationLog: { entries: {}, open: { pager: { burn: T } } } }));
    const a = instance(store, 'a');
    await a.state.loadShared();
    // Not the lead: the burn is not its own to page, but it moved it to the lead's document for whoever leads.
    expect(JSON.parse(store.documents.get('alerts:g:slo')!).alerts.map((e: { alert: { fingerprint: string } }) => e.alert.fingerprint)).toEqual(['burn']);
    expect(a.state.leadAlerts().map((x) => x.fingerprint)).toEqual(['burn']);
    await a.state.save();
    expect(JSON.parse(store.documents.get('alerts:g:global')!).alerts).toEqual([]);
    // Once it leads itself, the burn is its own and no longer listed as another's.
    await a.state.adopt([-2]);
    expect(a.state.leadAlerts()).toEqual([]);
  });
});
