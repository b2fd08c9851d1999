import type { Logger } from 'pino';
import type { Store } from '../domain/store.ts';
import type { AlertDispatcher } from './dispatcher.ts';
import { atMostEvery } from '../base/every.ts';
import type { AlertEngine } from './engine.ts';
import { GLOBAL_PARTITION, SLO_PARTITION } from './lifecycle/alert-book.ts';
import { pruneLog, type InMemoryNotificationLog } from './notify/notification-log.ts';
import { resolvesOwed } from './notify/storm.ts';
import { AlertStatePersistence, decodeState, encodeState, type AlertState } from './persistence.ts';
import type { Alert } from './types.ts';
import { silenceFromData, silenceToData, type Silence, type SilenceData } from './silences/silence.ts';
import type { SilenceRegistry } from './silences/silence-store.ts';
import { documentKey, documentOf, globalKey, mergeNotificationLogs, silenceKey, silencePrefix, sloOutOfShared, splitAlertState, stormsClearIn, withoutAlerts } from './state-documents.ts';

/** The longest a store that cannot be read for storm checks goes without a log line. */
const READ_WARN_EVERY_MS = 60_000;

/** How long what a group was last told is remembered (Alertmanager keeps 5 days): longer than any repeat_interval. */
const LOG_RETENTION_MS = 5 * 86_400_000;

export interface PartitionedAlertStateOptions {
  store: Store;
  /** Documents are `<base>:p<partition>` and `<base>:global`; `<base>` alone is the pre-partition document. */
  base: string;
  alerts: AlertEngine;
  log: InMemoryNotificationLog;
  silences: SilenceRegistry;
  dispatcher: AlertDispatcher | undefined;
  logger: Logger;
  everyMs?: number;
}

/**
 * Alert state owned per Kafka partition, so several instances in one consumer group are as
 * correct as one: an instance saves the alerts (and what receivers were told of them) of the
 * partitions it owns, each in its own document; when a partition moves, the old owner forgets
 * its alerts and the new owner loads them and hands them to its dispatcher. SLO burn alerts are
 * owned the same way by the group's SLO lead (SLO_PARTITION, see slo/lead.ts). Alerts of no one
 * partition (source silence) live in one shared document; each silence in a document of its own.
 */
export class PartitionedAlertState {
  readonly persistence: AlertStatePersistence;
  private readonly options: PartitionedAlertStateOptions;
  private readonly owned = new Set<number>();
  /** Unreadable store documents are said once a minute at most, for storm checks and for silences. */
  private readonly warnRead = atMostEvery(READ_WARN_EVERY_MS);
  private readonly warnSync = atMostEvery(READ_WARN_EVERY_MS);
  private syncTimer: NodeJS.Timeout | undefined;
  /** The read of the shared silences in progress: one at a time, and waited for at shutdown. */
  private syncing: Promise<boolean> | undefined;
  private stopped = false;
  /** SLO burn alerts found in a shared document of an older version: the lead takes them over. */
  private legacySlo: AlertState | undefined;
  /** The SLO lead's alerts as the store has them, while another instance leads (read with the silences). */
  private leadsAlerts: readonly Alert[] = [];
  /** The lead's document as last decoded: read every 2 s, decoded again only when it changed. */
  private leadsText: string | undefined;
  /** Each stored silence as last decoded, by key: decoded again only when its document changed. */
  private readonly decodedSilences = new Map<string, { text: string; silence: Silence }>();

  constructor(options: PartitionedAlertStateOptions) {
    this.options = options;
    this.persistence = new AlertStatePersistence({
      store: options.store,
      logger: options.logger,
      ...(options.everyMs ? { everyMs: options.everyMs } : {}),
      source: { documents: () => this.documents() },
    });
    // A delivered page is saved at once, not at the next periodic save.
    options.log.onRecord = () => this.persistence.saveSoon();
  }

  get partitions(): ReadonlySet<number> {
    return this.owned;
  }

  private documents(): Map<string, AlertState | SilenceData> {
    const { base, alerts, log, silences } = this.options;
    // Group entries only serve dedup and repeat_interval; alerts still owed a resolve are kept.
    log.replace(pruneLog(log.state, Date.now(), LOG_RETENTION_MS));
    const docs: Map<string, AlertState | SilenceData> = splitAlertState(base, alerts.snapshot(), log.state, this.owned);
    // Only a silence that changed since it was last saved or read is written (the persistence compares).
    for (const silence of silences.list()) docs.set(silenceKey(base, silence.id), silenceToData(silence));
    return docs;
  }

  /**
   * At start: the shared document (or, from an older version, the one document of the group), and
   * the silences. Silences an older version kept in the shared document are taken in too, and
   * saved in their own documents with the next save.
   */
  async loadShared(): Promise<void> {
    const { base } = this.options;
    const docs = await this.persistence.load([globalKey(base), base]);
    const state = docs.get(globalKey(base)) ?? docs.get(base);
    if (state) {
      if (state.silences) this.options.silences.load(state.silences.map(silenceFromData));
      // SLO burn alerts are the lead's: an instance that is not must not page what is owed of them.
      const { shared, slo } = sloOutOfShared(state);
      this.legacySlo = slo;
      this.take(shared);
      // Whichever instance of the new version starts first moves them to the lead's document, so a
      // lead that starts after the shared document was rewritten without them still finds them.
      const sloKey = documentKey(base, SLO_PARTITION);
      if (slo && !(await this.options.store.loadDocuments([sloKey])).has(sloKey)) await this.options.store.saveDocuments([{ key: sloKey, doc: encodeState(slo) }]);
    }
    await this.syncSilences();
  }

  /**
   * The SLO lead's alerts while another instance leads, as last read from the store (every few
   * seconds, with the silences): they inhibit here as they do at the lead (an inhibit rule whose
   * source is a burn alert), and the alerts API lists them. Empty while this instance leads.
   */
  leadAlerts(): readonly Alert[] {
    return this.owned.has(SLO_PARTITION) ? [] : this.leadsAlerts;
  }

  /**
   * Starts the periodic saves, and the reading of the silences (every `everyMs`, 2 s by default):
   * a silence made through any instance's API mutes the alerts of every instance within a few
   * seconds, and one expired anywhere ends everywhere.
   */
  start(): void {
    this.persistence.start();
    if (this.syncTimer) return;
    this.syncTimer = setInterval(() => {
      // One read at a time: a store slower than the interval does not pile them up.
      if (this.syncing) return;
      this.syncSilences().catch((error: unknown) => {
        if (this.warnSync()) this.options.logger.warn({ err: error }, "could not read the group's silences; will try again");
      });
    }, this.options.everyMs ?? 2_000);
    this.syncTimer.unref();
  }

  /** Stops reading the silences and saves once more (see AlertStatePersistence.shutdown). */
  async shutdown(): Promise<void> {
    clearInterval(this.syncTimer);
    this.syncTimer = undefined;
    // A read in progress finishes first, so that the last save holds what it took in.
    await this.syncing?.catch(() => undefined);
    this.stopped = true;
    await this.persistence.shutdown();
  }

  /**
   * Takes in the silences the group's instances saved (SilenceRegistry.merge: the newer of two by
   * `updatedAt`). Each silence is its own document, written by the instance that changed it, so
   * one instance's save never drops another's silence; only two changes of one silence made at
   * once through two instances race, and the newer wins at both. True when this instance's
   * silences changed.
   */
  syncSilences(now = Date.now()): Promise<boolean> {
    const sync = this.readGroupDocuments(now).finally(() => {
      if (this.syncing === sync) this.syncing = undefined;
    });
    this.syncing = sync;
    return sync;
  }

  /** Saves now (every changed document, the silences included), for an API that answers once a change is stored. */
  save(): Promise<void> {
    return this.persistence.save();
  }

  /** The silences and the SLO lead's alerts, as the group's instances saved them (see syncSilences and leadAlerts). */
  private async readGroupDocuments(now: number): Promise<boolean> {
    const { base, store, silences: registry, logger } = this.options;
    const sloKey = documentKey(base, SLO_PARTITION);
    const [docs, shared] = await Promise.all([store.documentsWithPrefix(silencePrefix(base)), store.loadDocuments([sloKey, globalKey(base)])]);
    const leads = shared.get(sloKey);
    if (leads !== this.leadsText) {
      this.leadsText = leads;
      try {
        this.leadsAlerts = leads === undefined ? [] : decodeState<AlertState>(leads).alerts.map((entry) => entry.alert);
      } catch (error) {
        // Not one this version can read: no inhibition by the lead's alerts, the silences still synced.
        this.leadsAlerts = [];
        if (this.warnSync()) logger.warn({ err: error, key: sloKey }, "the SLO lead's alert document cannot be read by this version: left out here");
      }
    }
    const stored = new Map<string, { key: string; text: string; silence: Silence }>();
    const read = (key: string, data: SilenceData): Silence | undefined => {
      try {
        return silenceFromData(data);
      } catch (error) {
        // A matcher this version no longer compiles: skipped, said once a minute at most.
        if (this.warnSync()) logger.warn({ err: error, key }, 'a stored silence cannot be read by this version: left out here');
        return undefined;
      }
    };
    for (const [key, text] of docs) {
      const known = this.decodedSilences.get(key);
      const silence = known?.text === text ? known.silence : read(key, decodeState<SilenceData>(text));
      if (!silence) continue;
      if (known?.text !== text) this.decodedSilences.set(key, { text, silence });
      stored.set(silence.id, { key, text, silence });
    }
    // During a rolling upgrade, instances of the older version keep their silences in the shared document.
    // This version never writes silences there: the shared document (which can be large) is decoded only when one did.
    const legacy = shared.get(globalKey(base));
    const older = (legacy?.includes('"silences":') ? (decodeState<AlertState>(legacy).silences ?? []) : []).map((data) => read(globalKey(base), data)).filter((s) => s !== undefined);
    const changed = registry.merge([...stored.values()].map((s) => s.silence).concat(older.filter((s) => !stored.has(s.id))), now);
    if (changed) logger.info({ silences: registry.list().length }, "silences of the group's other instances taken in");
    let owed = false;
    for (const silence of registry.list()) {
      const found = stored.get(silence.id);
      const ours = encodeState(silenceToData(silence));
      // What the store holds is what this instance holds: nothing to write back.
      if (found && found.text === ours) this.persistence.markSaved(found.key, found.text);
      // The store lacks it, or holds an older change or the loser of a tie (a race of two
      // instances; merge kept the winner here): ours goes back.
      else if (!found || found.silence.updatedAt <= silence.updatedAt) {
        this.persistence.invalidate(silenceKey(base, silence.id));
        owed = true;
      }
    }
    if (owed && !this.stopped) this.persistence.saveSoon();
    return changed;
  }

  /** Partitions this instance now owns: their saved alerts come back, and what is owed of them is sent. */
  async adopt(partitions: readonly number[]): Promise<void> {
    const fresh = partitions.filter((p) => !this.owned.has(p));
    if (fresh.length === 0) return;
    const keys = fresh.map((p) => documentKey(this.options.base, p));
    const docs = await this.persistence.load(keys);
    const sloKey = documentKey(this.options.base, SLO_PARTITION);
    if (keys.includes(sloKey)) {
      if (!docs.has(sloKey) && this.legacySlo) docs.set(sloKey, this.legacySlo);
      this.legacySlo = undefined;
    }
    for (const p of fresh) this.owned.add(p);
    for (const state of docs.values()) this.take(state);
  }

  private take(state: AlertState): void {
    const { alerts, log, dispatcher } = this.options;
    alerts.adopt(state.alerts);
    log.replace(mergeNotificationLogs(log.state, state.notificationLog));
    const restored = state.alerts.map((entry) => entry.alert);
    dispatcher?.reconcile(restored, resolvesOwed(log.state, restored));
  }

  /**
   * Of these storm buckets, the ones that no partition document but this instance's own has an
   * alert of firing for `receiver` (stormsClearIn), as the store has them: their owners save them
   * before every commit and at once after a page. Every partition document of the group is read
   * (found by key, not by the topics' partition numbers), so the HTTP intake's partitions of other
   * instances and partitions added to the topics count too. A store that cannot be read keeps
   * every storm held.
   */
  async clearElsewhere(receiver: string, buckets: readonly string[]): Promise<ReadonlySet<string>> {
    const { base, store, logger } = this.options;
    const prefix = `${base}:p`;
    // Read past the persistence, which would take them for its own saves and log a restore each time.
    let docs: Map<string, string>;
    try {
      docs = await store.documentsWithPrefix(prefix);
    } catch (error) {
      if (this.warnRead()) logger.warn({ err: error, receiver }, "could not read the other instances' alert state: storm resolves stay held");
      return new Set();
    }
    const others: AlertState[] = [];
    for (const [key, text] of docs) {
      const doc = documentOf(base, key);
      if (doc?.kind === 'alerts' && doc.owner >= 0 && !this.owned.has(doc.owner)) others.push(decodeState<AlertState>(text));
    }
    return stormsClearIn(others, receiver, buckets);
  }

  /** Partitions moved to another instance: their alerts are no longer this one's to page or resolve. */
  release(partitions: readonly number[]): void {
    const moved = partitions.filter((p) => this.owned.has(p) && p !== GLOBAL_PARTITION);
    if (moved.length === 0) return;
    for (const p of moved) this.owned.delete(p);
    const { alerts, log, dispatcher, logger } = this.options;
    const released = new Set(alerts.release(moved).map((entry) => entry.alert.fingerprint));
    log.replace(withoutAlerts(log.state, released));
    dispatcher?.forget(released);
    logger.info({ partitions: moved, alerts: released.size }, 'alert state of partitions handed over');
  }
}
