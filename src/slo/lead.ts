import type { Logger } from 'pino';
import { FailureLog, retry } from '../base/retry.ts';

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
}

/**
 * Who pages the group's SLO burn. Every instance of a consumer group counts the same store, so
 * each would page the same burn: one trigger per instance (PagerDuty keeps one incident by its
 * dedup_key, a webhook or a chat receiver does not) and a resolve from one while another still
 * fires. Only the instance holding Kafka partition 0 leads; it moves with that partition, as a
 * partition's alerts do. An instance without Kafka leads from its start.
 *
 * Changes are taken one at a time, in order. Taking the lead waits until the burn alerts could be
 * read from the store (retried while it is still wanted), so a lead never pages without knowing
 * what the last one paged; handing it over saves the progress and the alerts first.
 */
export class SloLead {
  private readonly options: SloLeadOptions;
  private chain: Promise<void> = Promise.resolve();
  private wanted = false;
  private held = false;
  private stopped = false;
  /** Ends the waits of a take-over that is retried, once the lead is no longer wanted. */
  private abort: AbortController | undefined;

  constructor(options: SloLeadOptions) {
    this.options = options;
  }

  get leading(): boolean {
    return this.held;
  }

  /** Asks for the lead (true) or gives it up (false); settles once this and every earlier change are done. */
  set(on: boolean): Promise<void> {
    this.wanted = on;
    if (!on) this.abort?.abort();
    this.chain = this.chain.then(() => this.apply()).catch((error: unknown) => this.options.logger.error({ err: error }, 'could not change the SLO lead'));
    return this.chain;
  }

  /** Gives the lead up for good (at shutdown, before the engine and the alert state stop). */
  async shutdown(): Promise<void> {
    await this.set(false);
    this.stopped = true;
  }

  private async apply(): Promise<void> {
    const { engine, alerts, logger } = this.options;
    if (this.wanted === this.held || this.stopped) return;
    if (this.wanted) {
      const failures = new FailureLog((error, attempt, waitMs) => logger.warn({ err: error, attempt, waitMs }, 'cannot read the SLO burn alerts to take the lead yet; retrying'));
      this.abort = new AbortController();
      const { signal } = this.abort;
      try {
        await retry(() => alerts.adopt(), { baseMs: 500, maxMs: 10_000, deadlineMs: Number.POSITIVE_INFINITY, isRetryable: () => this.wanted, signal, onRetry: failures.onRetry });
      } catch (error) {
        if (!this.wanted) return;
        throw error;
      } finally {
        this.abort = undefined;
      }
      // Given up while the store answered: the burn alerts taken over go again at the next change.
      if (!this.wanted) {
        alerts.release();
        return;
      }
      await engine.lead(true);
      this.held = true;
      this.options.leading?.(true);
      logger.info('this instance now evaluates and pages the SLOs of its group');
    } else {
      await engine.lead(false);
      await alerts.save().catch((error: unknown) => logger.warn({ err: error }, 'could not save the SLO burn alerts before handing the lead over'));
      alerts.release();
      this.held = false;
      this.options.leading?.(false);
      logger.info('SLO lead handed over: another instance of the group evaluates and pages the SLOs');
    }
  }
}
