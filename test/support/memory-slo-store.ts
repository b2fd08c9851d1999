import type { SloRange, Store } from '../../src/domain/store.ts';
import type { Counts, MinuteCounts } from '../../src/domain/slo-counts.ts';

/**
 * The part of the Store an SLO engine reads and writes, in memory, for unit tests of the
 * engine's stepping and restarts: per-minute counts, state documents, and where events reach.
 * The real store's counting is tested against ClickHouse in test/integration.
 */
export class MemorySloStore {
  readonly minutes = new Map<string, MinuteCounts[]>();
  readonly documents = new Map<string, string>();
  reached: number | null = null;
  saves = 0;

  asStore(): Store {
    return this as unknown as Store;
  }

  async sloMinutes(ranges: readonly SloRange[]): Promise<Map<string, MinuteCounts[]>> {
    return new Map(ranges.map((r) => [r.slo, (this.minutes.get(r.slo) ?? []).filter((m) => m.minute >= r.fromMinute && m.minute < r.toMinute)]));
  }

  async sloCounts(ranges: readonly SloRange[]): Promise<Map<string, Counts>> {
    const out = new Map<string, Counts>();
    for (const [slo, minutes] of await this.sloMinutes(ranges)) {
      out.set(slo, minutes.reduce((c, m) => ({ good: c.good + m.good, total: c.total + m.total }), { good: 0, total: 0 }));
    }
    return out;
  }

  async eventTimeReached(): Promise<number | null> {
    return this.reached;
  }

  async saveDocuments(docs: readonly { key: string; doc: string }[]): Promise<void> {
    this.saves++;
    for (const d of docs) this.documents.set(d.key, d.doc);
  }

  async documentsWithPrefix(prefix: string): Promise<Map<string, string>> {
    return new Map([...this.documents].filter(([key]) => key.startsWith(prefix)));
  }

  async loadDocuments(keys: readonly string[]): Promise<Map<string, string>> {
    return new Map(keys.filter((k) => this.documents.has(k)).map((k) => [k, this.documents.get(k)!]));
  }
}
