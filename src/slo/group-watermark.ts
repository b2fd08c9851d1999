import type { Logger } from 'pino';
import type { Store } from '../domain/store.ts';
import { atMostEvery } from '../base/every.ts';

/**
 * How far every partition of a consumer group has stored its verdicts. An instance knows its own
 * partitions' stored watermark; SLO counts are the whole group's, so an SLO evaluated up to one
 * instance's watermark counts minutes another instance has not stored yet (it restarted, it is
 * catching up a backlog, its store writes are retried), and a burn in that instance's share is
 * paged late or not at all. Each instance publishes its stored watermark per Kafka partition it
 * owns and has stored a flush for since it rebuilt it (`slo:<group>:stored:<n>`), and SLOs are
 * evaluated up to the lowest of the group's.
 */

export interface StoredMark {
  /** Event time up to which this partition's verdicts are stored. */
  watermark: number;
  /** Wall time of the save: a partition nobody saved for `staleAfterMs` no longer holds the group back. */
  savedAt: number;
}

export const storedPrefix = (group: string) => `slo:${group}:stored:`;

/** An unchanged mark is saved again this often, so that only a mark whose owner is gone goes stale. */
const HEARTBEAT_MS = 60_000;

/** Marks that say nothing usable (a document an older or newer version wrote differently) are left out. */
export function parseMarks(prefix: string, docs: ReadonlyMap<string, string>): Map<number, StoredMark> {
  const out = new Map<number, StoredMark>();
  for (const [key, text] of docs) {
    const partition = key.slice(prefix.length);
    if (!/^\d+$/.test(partition)) continue;
    try {
      const mark = JSON.parse(text) as Partial<StoredMark>;
      if (Number.isFinite(mark.watermark) && Number.isFinite(mark.savedAt)) out.set(Number(partition), { watermark: mark.watermark!, savedAt: mark.savedAt! });
    } catch {
      // Not JSON: left out.
    }
  }
  return out;
}

/**
 * The event time the group's verdicts are stored up to: this instance's own watermark, lowered
 * to the lowest published by the owners of the other partitions. Marks of partitions its own
 * watermark speaks for are left out (they are older, from a previous owner); so are marks of
 * partitions the topics no longer have, and marks nobody saved for `staleAfterMs` (an owner
 * whose store writes have failed that long: past it, SLOs are evaluated without its share).
 * `heldBy` names the partition that holds it back, if one does.
 */
export function groupWatermark(
  own: number,
  owned: ReadonlySet<number>,
  marks: ReadonlyMap<number, StoredMark>,
  now: number,
  staleAfterMs: number,
  exists: (partition: number) => boolean = () => true,
): { at: number; heldBy?: number } {
  let at = own;
  let heldBy: number | undefined;
  for (const [partition, mark] of marks) {
    if (owned.has(partition) || !exists(partition) || now - mark.savedAt > staleAfterMs) continue;
    if (mark.watermark < at) {
      at = mark.watermark;
      heldBy = partition;
    }
  }
  return heldBy === undefined ? { at } : { at, heldBy };
}

export interface GroupWatermarkOptions {
  store: Store;
  group: string;
  /**
   * This instance's stored watermark (as its last stored flush was judged), and the Kafka
   * partitions it speaks for: owned, rebuilt here, and stored since.
   */
  own: () => { watermark: number; partitions: ReadonlySet<number> };
  /** Whether the topics have this partition number (marks of others are left out). Every number by default. */
  exists?: (partition: number) => boolean;
  logger: Logger;
  /** Default 1 hour. */
  staleAfterMs?: number;
  /** Wall ms between publishes. Default 5 s. */
  everyMs?: number;
  /** Told at each read how far (event-time ms) the group's lowest is behind this instance's own. */
  heldBack?: (ms: number) => void;
  now?: () => number;
}

/** Publishes this instance's marks and reads the group's (see the file's comment). */
export class GroupWatermark {
  private readonly options: GroupWatermarkOptions;
  private readonly prefix: string;
  /** What was last saved per partition, and when, so an unchanged mark is written only as a heartbeat. */
  private readonly published = new Map<number, { watermark: number; at: number }>();
  private readonly warnHeld = atMostEvery(60_000);
  private readonly warnPublish = atMostEvery(60_000);
  private timer: NodeJS.Timeout | undefined;
  private publishing: Promise<void> | undefined;

  constructor(options: GroupWatermarkOptions) {
    this.options = options;
    this.prefix = storedPrefix(options.group);
  }

  /** Publishes every `everyMs` (one save at a time) until shutdown. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.publishing) return;
      this.publishing = this.publish()
        .catch((error: unknown) => {
          if (this.warnPublish()) this.options.logger.warn({ err: error }, "could not publish how far this instance's partitions have stored their verdicts; will try again");
        })
        .finally(() => (this.publishing = undefined));
    }, this.options.everyMs ?? 5_000);
    this.timer.unref();
  }

  /**
   * Stops publishing. No last publish: by now the partitions may be another instance's, whose
   * mark it would overwrite; the last periodic one is at most `everyMs` behind, which only holds
   * the group a little longer.
   */
  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.publishing;
  }

  /** Saves this instance's stored watermark for every partition it owns whose mark moved. */
  async publish(): Promise<void> {
    const { watermark, partitions } = this.options.own();
    if (!Number.isFinite(watermark)) return;
    const now = (this.options.now ?? Date.now)();
    // An unchanged mark is saved again once a minute: a mark not saved for staleAfterMs is an owner gone.
    const due = (p: number) => {
      const last = this.published.get(p);
      return !last || last.watermark !== watermark || now - last.at >= HEARTBEAT_MS;
    };
    const owned = [...partitions];
    if (!owned.some(due)) return;
    await this.options.store.saveDocuments(owned.map((p) => ({ key: `${this.prefix}${p}`, doc: JSON.stringify({ watermark, savedAt: now } satisfies StoredMark) })));
    for (const p of owned) this.published.set(p, { watermark, at: now });
    // A partition handed over is published again when it comes back, even at the same watermark.
    for (const p of this.published.keys()) if (!partitions.has(p)) this.published.delete(p);
  }

  /** The event time the group's verdicts are stored up to (groupWatermark), read from the store. */
  async at(): Promise<number> {
    const { watermark, partitions } = this.options.own();
    if (!Number.isFinite(watermark)) return watermark;
    const now = (this.options.now ?? Date.now)();
    const marks = parseMarks(this.prefix, await this.options.store.documentsWithPrefix(this.prefix));
    const { at, heldBy } = groupWatermark(watermark, partitions, marks, now, this.options.staleAfterMs ?? 3_600_000, this.options.exists);
    this.options.heldBack?.(watermark - at);
    if (heldBy !== undefined && watermark - at > 300_000 && this.warnHeld()) {
      this.options.logger.warn(
        { partition: heldBy, storedUpTo: new Date(at).toISOString(), ownStoredUpTo: new Date(watermark).toISOString() },
        'SLOs are evaluated only up to where partition %d of the group has stored its verdicts, more than 5 minutes behind this instance: its owner is behind or not writing',
        heldBy,
      );
    }
    return at;
  }
}
