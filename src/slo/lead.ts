import type { Logger } from 'pino';
import { FailureLog, retry, sleep } from '../base/retry.ts';
import type { Store } from '../domain/store.ts';
import { atMostEvery } from '../base/every.ts';

/** The partition whose owner is the group's SLO lead. Every topic has one, and the co-partitioned assignment gives it to one member. */
export const LEAD_PARTITION = 0;

/** Whether a Kafka assignment (partitions by topic) makes this instance the group's SLO lead. */
export function leadsGroup(assignment: Readonly<Record<string, readonly number[]>>): boolean {
  return Object.values(assignment).some((partitions) => partitions.includes(LEAD_PARTITION));
}

export interface SloLeadOptions {
  /** The SLO engine: pages and saves its progress only while it leads. */
  engine: { lead(on: boolean): Promise<void> };
  /** The burn alerts' state (SLO_PARTITION): taken over from the store, saved and handed over. */
  alerts: { adopt(): Promise<void>; save(): Promise<void>; release(): void };
  logger: Logger;
  /** Told each change: 1 while this instance leads (the seamwatch_slo_lead gauge). */
  leading?: (on: boolean) => void;
  /**
   * The hand-over between two instances: who holds the lead, in a store document. Without it (one
   * instance, tests) the lead is taken at once.
   */
  handOver?: HandOverOptions;
}

export interface HandOverOptions {
  store: Store;
  /** The document naming the holder (`alerts:<group>:slo-holder`). */
  key: string;
  /** This process, as the document names it. */
  instance: string;
  /** Wall ms between the holder's heartbeats. Default 5 s; a mark three heartbeats old is a holder gone. */
  heartbeatMs?: number;
  /** The longest a new lead waits for a live holder to hand over. Default 30 s. */
  waitMs?: number;
}

/** Who holds the SLO lead, as the store has it. */
export interface HolderMark {
  holder: string;
  state: 'holding' | 'released';
  /** Wall time of the holder's last write. */
  at: number;
}

/**
 * Who pages the group's SLO burn. Every instance of a consumer group counts the same store, so
 * each would page the same burn: one trigger per instance (PagerDuty keeps one incident by its
 * dedup_key, a webhook or a chat receiver does not) and a resolve from one while another still
 * fires. Only the instance holding Kafka partition 0 leads; it moves with that partition, as a
 * partition's alerts do. An instance without Kafka leads from its start.
 *
 * Changes are taken one at a time, in order. Handing the lead over stops the paging, saves the
 * progress and the alerts, and then says so in the holder document. Taking it waits for that (in a
 * rebalance both instances hear of the new assignment at about the same time), up to `waitMs`
 * for a holder that stays alive and never hands over, and not at all for a holder gone (no
 * heartbeat for three); then it reads the burn alerts (retried while the lead is still wanted), so
 * a lead never pages without knowing what the last one paged.
 */
export class SloLead {
  private readonly options: SloLeadOptions;
  private chain: Promise<void> = Promise.resolve();
  private wanted = false;
  private held = false;
  private stopped = false;
  /** Ends the waits of a take-over that is retried, once the lead is no longer wanted. */
  private abort: AbortController | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly warnHeartbeat = atMostEvery(60_000);

  constructor(options: SloLeadOptions) {
    this.options = options;
  }

  get leading(): boolean {
    return this.held;
  }

  /** Asks for the lead (true) or gives it up (false); settles once this and every earlier change are done. */
  set(on: boolean): Promise<void> {
    // Once stopping, an assignment that still comes in (the consumer leaves the group after this) is not taken.
    this.wanted = on && !this.stopped;
    if (!this.wanted) this.abort?.abort();
    this.chain = this.chain.then(() => this.apply()).catch((error: unknown) => this.options.logger.error({ err: error }, 'could not change the SLO lead'));
    return this.chain;
  }

  /** Gives the lead up for good (at shutdown, before the engine and the alert state stop). */
  async shutdown(): Promise<void> {
    this.stopped = true;
    await this.set(false);
  }

  private async apply(): Promise<void> {
    const { engine, alerts, logger } = this.options;
    if (this.wanted === this.held) return;
    if (this.wanted) {
      const failures = new FailureLog((error, attempt, waitMs) => logger.warn({ err: error, attempt, waitMs }, 'cannot read the SLO burn alerts to take the lead yet; retrying'));
      this.abort = new AbortController();
      const { signal } = this.abort;
      let adopted = false;
      try {
        await retry(
          async () => {
            // Given up while waiting: not taken. A later wish to lead is its own change, with its own wait.
            if (!(await this.waitForHandOver(signal))) throw new Cancelled();
            await alerts.adopt();
            adopted = true;
          },
          { baseMs: 500, maxMs: 10_000, deadlineMs: Number.POSITIVE_INFINITY, isRetryable: (error) => !(error instanceof Cancelled) && this.wanted, signal, onRetry: failures.onRetry },
        );
      } catch (error) {
        if (!(error instanceof Cancelled) && !signal.aborted && this.wanted) throw error;
      } finally {
        this.abort = undefined;
      }
      // Given up meanwhile: the burn alerts taken over go again.
      if (!adopted || signal.aborted || !this.wanted) {
        if (adopted) alerts.release();
        return;
      }
      await engine.lead(true);
      this.held = true;
      this.options.leading?.(true);
      await this.mark('holding').catch((error: unknown) => logger.warn({ err: error }, 'could not note the SLO lead in the store; the heartbeat tries again'));
      this.startHeartbeat();
      logger.info('this instance now evaluates and pages the SLOs of its group');
    } else {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
      await engine.lead(false);
      await alerts.save().catch((error: unknown) => logger.warn({ err: error }, 'could not save the SLO burn alerts before handing the lead over'));
      alerts.release();
      this.held = false;
      this.options.leading?.(false);
      await this.mark('released').catch((error: unknown) => logger.warn({ err: error }, 'could not note the SLO lead handed over; the next lead takes it once this instance is three heartbeats quiet'));
      logger.info('SLO lead handed over: another instance of the group evaluates and pages the SLOs');
    }
  }

  private async readMark(): Promise<HolderMark | undefined> {
    const { store, key } = this.options.handOver!;
    const text = (await store.loadDocuments([key])).get(key);
    if (text === undefined) return undefined;
    let mark: Partial<HolderMark>;
    try {
      mark = JSON.parse(text) as Partial<HolderMark>;
    } catch {
      // Not one this version can read: as if nobody held it.
      return undefined;
    }
    return typeof mark.holder === 'string' && (mark.state === 'holding' || mark.state === 'released') && Number.isFinite(mark.at) ? (mark as HolderMark) : undefined;
  }

  /** Writes this instance's mark; a release does not overwrite a mark another instance wrote since. */
  private async mark(state: HolderMark['state']): Promise<void> {
    const handOver = this.options.handOver;
    if (!handOver) return;
    if (state === 'released') {
      const current = await this.readMark();
      if (current && current.holder !== handOver.instance) return;
    }
    await handOver.store.saveDocuments([{ key: handOver.key, doc: JSON.stringify({ holder: handOver.instance, state, at: Date.now() } satisfies HolderMark) }]);
  }

  private startHeartbeat(): void {
    const handOver = this.options.handOver;
    if (!handOver || this.heartbeat) return;
    this.heartbeat = setInterval(() => void this.renew(), handOver.heartbeatMs ?? 5_000);
    this.heartbeat.unref();
  }

  /**
   * Renews the holder document, unless another instance holds it now: one that took the lead
   * after waiting for this one in vain (this instance was dropped from the group, say), which
   * this one then gives up to.
   */
  private async renew(): Promise<void> {
    const handOver = this.options.handOver!;
    try {
      const mark = await this.readMark();
      if (!this.held) return;
      if (mark && mark.holder !== handOver.instance && mark.state === 'holding') {
        this.options.logger.warn({ holder: mark.holder }, 'another instance took the SLO lead over: this one gives it up');
        void this.set(false);
        return;
      }
      await this.mark('holding');
    } catch (error) {
      if (this.warnHeartbeat()) this.options.logger.warn({ err: error }, 'could not renew the SLO lead in the store; will try again');
    }
  }

  /**
   * Until the last holder handed over, is gone, or `waitMs` passed: true. False when the lead is
   * given up meanwhile. A store that cannot be read fails the try (retried).
   */
  private async waitForHandOver(signal: AbortSignal): Promise<boolean> {
    const handOver = this.options.handOver;
    if (!handOver) return !signal.aborted;
    const staleMs = 3 * (handOver.heartbeatMs ?? 5_000);
    const deadline = Date.now() + (handOver.waitMs ?? 30_000);
    for (;;) {
      if (signal.aborted) return false;
      const mark = await this.readMark();
      if (signal.aborted) return false;
      if (!mark || mark.holder === handOver.instance || mark.state === 'released' || Date.now() - mark.at > staleMs) return true;
      if (Date.now() >= deadline) {
        this.options.logger.warn({ holder: mark.holder }, 'took the SLO lead without a hand-over: the last holder still renews it but did not let go');
        return true;
      }
      await sleep(Math.min(250, handOver.heartbeatMs ?? 5_000), signal);
    }
  }
}

/** A take-over given up while it waited. */
class Cancelled extends Error {}
