import type { Logger } from 'pino';
import type { ControlStore, PagingPause, PauseScope } from '../domain/controls.ts';
import { pauseActive } from '../alerts/pauses/pause.ts';

export interface PauseBookOptions {
  store: Pick<ControlStore, 'pagingPauses' | 'writePagingPause'>;
  logger: Logger;
  /** How often the rows are read again, so a pause set through another instance reaches this one. Default 5 s. */
  refreshEveryMs?: number;
  now?: () => number;
}

/**
 * The paging pauses as this instance knows them: the store's rows (one per scope, newest
 * wins), read at start and every few seconds, so a pause set through any instance holds on
 * all of them and survives restarts. A change made here is written first, then taken at once.
 */
export class PauseBook {
  private readonly options: PauseBookOptions;
  private readonly now: () => number;
  private current = new Map<string, PagingPause>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastError: string | undefined;

  constructor(options: PauseBookOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Loads the rows; then refreshes them in the background. */
  async start(): Promise<void> {
    await this.refresh();
    if (this.stopped) return;
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.options.refreshEveryMs ?? 5_000);
    this.timer.unref();
  }

  /** Reads the rows again; a failed read keeps what was known (logged once per kind of error). */
  async refresh(): Promise<void> {
    try {
      const rows = await this.options.store.pagingPauses();
      const next = new Map(rows.map((p) => [keyOf(p.scope, p.name), p]));
      for (const [key, pause] of next) {
        const before = this.current.get(key);
        if (before && before.at === pause.at && before.paused === pause.paused) continue;
        if (before || pause.paused) this.options.logger.info(fields(pause), pause.paused ? 'paging paused' : 'paging resumed');
      }
      // A row of our own newer than what was read (a write not yet visible) is kept.
      for (const [key, mine] of this.current) if ((next.get(key)?.at ?? -1) < mine.at) next.set(key, mine);
      this.current = next;
      this.lastError = undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message !== this.lastError) this.options.logger.warn({ err: error }, 'could not read paging pauses: keeping the last known');
      this.lastError = message;
      throw error;
    }
  }

  /** Every scope's newest word, paused or not. */
  list(): PagingPause[] {
    return [...this.current.values()].sort((a, b) => a.scope.localeCompare(b.scope) || a.name.localeCompare(b.name));
  }

  /** The pauses holding now: what the notify chain reads at each flush. */
  active(now = this.now()): PagingPause[] {
    return this.list().filter((p) => pauseActive(p, now));
  }

  get(scope: PauseScope, name: string): PagingPause | undefined {
    return this.current.get(keyOf(scope, name));
  }

  /** Writes a pause or a resume, then takes it. */
  async set(pause: PagingPause): Promise<void> {
    await this.options.store.writePagingPause(pause);
    this.current.set(keyOf(pause.scope, pause.name), pause);
    this.options.logger.info(fields(pause), pause.paused ? 'paging paused' : 'paging resumed');
  }

  shutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    return Promise.resolve();
  }
}

function keyOf(scope: PauseScope, name: string): string {
  return `${scope}\u0000${name}`;
}

function fields(p: PagingPause) {
  return { scope: p.scope, name: p.name, actor: p.actor, reason: p.reason, until: p.until ? new Date(p.until).toISOString() : null };
}
