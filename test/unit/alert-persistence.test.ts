import { describe, expect, it } from 'vitest';
import { AlertStatePersistence, decodeState, encodeState, type AlertState } from '../../src/alerts/persistence.ts';
import { InMemoryNotificationLog } from '../../src/alerts/notify/notification-log.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import type { Store } from '../../src/domain/store.ts';

/** Only the two document calls matter here; the ClickHouse side is tested in the integration tests. */
function documentStore(saved: string[]): Store {
  return {
    saveDocuments: async (docs: readonly { key: string; doc: string }[]) => {
      saved.push(...docs.map((d) => d.doc));
    },
    loadDocuments: async () => new Map(saved.length > 0 ? [['k', saved.at(-1)!]] : []),
  } as unknown as Store;
}

describe('AlertStatePersistence', () => {
  it('keeps Infinity through a save and a load', () => {
    const state = { alerts: [{ firesAt: 5, resolvesAt: Number.POSITIVE_INFINITY }], notificationLog: undefined };
    expect(decodeState(encodeState(state))).toEqual(state);
  });

  it('saves a delivered notification at once, not at the next timer tick, and only when something changed', async () => {
    const saved: string[] = [];
    const log = new InMemoryNotificationLog();
    const persistence = new AlertStatePersistence({
      store: documentStore(saved),
      logger: silentLogger(),
      everyMs: 60_000,
      source: { documents: () => new Map<string, AlertState>([['k', { alerts: [], notificationLog: log.state }]]) },
    });
    log.onRecord = () => persistence.saveSoon();
    log.record('pd', 'group', { firing: ['f1'], resolved: [] }, 1_000);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(saved).toHaveLength(1);
    expect(decodeState<AlertState>(saved[0]!).notificationLog?.open).toEqual({ pd: { f1: 1_000 } });
    await persistence.save();
    expect(saved).toHaveLength(1);

    const restarted = new InMemoryNotificationLog();
    const loaded = await new AlertStatePersistence({ store: documentStore(saved), logger: silentLogger(), source: { documents: () => new Map() } }).load(['k']);
    restarted.replace(loaded.get('k')!.notificationLog!);
    expect(restarted.isOpen('pd', 'f1')).toBe(true);
  });

  it('a save asked for while another is writing stores what changed since, not the older snapshot', async () => {
    const saved: string[] = [];
    let release: () => void = () => undefined;
    const slow = {
      saveDocuments: async (docs: readonly { key: string; doc: string }[]) => {
        if (saved.length === 0) await new Promise<void>((resolve) => (release = resolve));
        saved.push(...docs.map((d) => d.doc));
      },
    } as unknown as Store;
    let alerts = 0;
    const persistence = new AlertStatePersistence({
      store: slow,
      logger: silentLogger(),
      source: { documents: () => new Map<string, AlertState>([['k', { alerts: Array.from({ length: alerts }, () => ({}) as AlertState['alerts'][number]), notificationLog: undefined }]]) },
    });
    const periodic = persistence.save(); // snapshot with no alert, held by the slow store
    await new Promise((resolve) => setTimeout(resolve, 5));
    alerts = 1; // an alert fires; the pipeline saves before it commits
    const beforeCommit = persistence.save();
    release();
    await Promise.all([periodic, beforeCommit]);
    expect(saved.map((doc) => decodeState<AlertState>(doc).alerts.length)).toEqual([0, 1]);
  });
});
