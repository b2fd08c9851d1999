import { randomUUID } from 'node:crypto';
import { silenceToData, type Silence } from './silence.ts';
import { createSilence, expireSilence, pruneSilences, updateSilence, type SilenceInput, type SilenceResult } from './silence-book.ts';

/** Alertmanager keeps expired silences 5 days, so people can see what was muted and by whom. */
export const DEFAULT_SILENCE_RETENTION_MS = 5 * 86_400_000;

export interface SilenceRegistryOptions {
  /** New silence ids; random UUIDs by default (tests pass a counter). */
  newId?: () => string;
  /** How long an expired silence is still listed. Default 5 days. */
  retentionMs?: number;
  /**
   * Called with the whole list after every change made through the registry (not after load()):
   * the hook persistence will use. It must not throw; a store queues its own writes.
   */
  changed?: (silences: readonly Silence[]) => void;
}

/**
 * The silences in memory: one list, changed only through the pure functions of silence-book.ts,
 * read by the notify chain at each flush (`silences: () => registry.list()`) and by the API.
 * Expired silences older than the retention are forgotten at each change.
 */
export class SilenceRegistry {
  private silences: readonly Silence[] = [];
  private readonly newId: () => string;
  private readonly retentionMs: number;
  private readonly changed: ((silences: readonly Silence[]) => void) | undefined;

  constructor(options: SilenceRegistryOptions = {}) {
    this.newId = options.newId ?? randomUUID;
    this.retentionMs = options.retentionMs ?? DEFAULT_SILENCE_RETENTION_MS;
    this.changed = options.changed;
  }

  /** Every silence held: active, pending and recently expired. */
  list(): readonly Silence[] {
    return this.silences;
  }

  get(id: string): Silence | undefined {
    return this.silences.find((s) => s.id === id);
  }

  /** Replaces the list with stored silences (at start-up); does not call `changed`. */
  load(silences: readonly Silence[]): void {
    this.silences = [...silences];
  }

  create(input: SilenceInput, now: number): SilenceResult {
    return this.apply(createSilence(this.silences, input, now, this.newId()), now);
  }

  /** In place, or by expiring the old silence and creating a new one (see updateSilence). */
  update(id: string, input: SilenceInput, now: number): SilenceResult {
    return this.apply(updateSilence(this.silences, id, input, now, this.newId()), now);
  }

  expire(id: string, now: number): SilenceResult {
    return this.apply(expireSilence(this.silences, id, now), now);
  }

  /**
   * Takes in silences another instance of the group made or changed (read from the store): a silence is the newer of the two by `updatedAt` (an expiry updates it too, so it
   * wins over the silence it ends); two different changes made in the same millisecond are
   * settled the same way at every instance (the greater as JSON), so they agree instead of
   * writing theirs back in turn. One expired past the retention is not taken back. Does not call
   * `changed`. True when the list changed.
   */
  merge(others: readonly Silence[], now: number): boolean {
    const byId = new Map(this.silences.map((s) => [s.id, s]));
    let changed = false;
    for (const other of others) {
      const ours = byId.get(other.id);
      if (ours && (ours.updatedAt > other.updatedAt || (ours.updatedAt === other.updatedAt && JSON.stringify(silenceToData(ours)) >= JSON.stringify(silenceToData(other))))) continue;
      byId.set(other.id, other);
      changed = true;
    }
    if (!changed) return false;
    const merged = pruneSilences([...byId.values()], now, this.retentionMs);
    // Pruning may have dropped just what came in: changed only if the list is not what it was.
    if (merged.length === this.silences.length && merged.every((s, i) => s === this.silences[i])) return false;
    this.silences = merged;
    return true;
  }

  /** Forgets silences expired longer than the retention; returns how many. */
  prune(now: number): number {
    const kept = pruneSilences(this.silences, now, this.retentionMs);
    const pruned = this.silences.length - kept.length;
    if (pruned > 0) {
      this.silences = kept;
      this.changed?.(this.silences);
    }
    return pruned;
  }

  private apply(result: SilenceResult, now: number): SilenceResult {
    if (!result.ok) return result;
    this.silences = pruneSilences(result.silences, now, this.retentionMs);
    this.changed?.(this.silences);
    return { ...result, silences: [...this.silences] };
  }
}
