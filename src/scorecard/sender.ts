import { randomUUID } from 'node:crypto';
import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { FailureLog, retry, sleep } from '../base/retry.ts';
import { claimReport, markSent, type ClaimResult } from './claims.ts';
import { composeScorecard } from './compose.ts';
import type { ScorecardConfig } from './config.ts';
import { teamTimeZone } from './config.ts';
import { gatherScorecard, type ScorecardSources } from './gather.ts';
import { scorecardMail, type MailTransport } from './mail.ts';
import { ScorecardMetrics, type SendOutcome } from './metrics.ts';
import { lastCompleteWeek } from './week.ts';

/** When the schedule next fires for a team after `from` (its time zone applied). */
export function nextSendAt(config: ScorecardConfig, team: string, from: number): number | undefined {
  const next = new Cron(config.schedule, { timezone: teamTimeZone(config, team), paused: true }).nextRun(new Date(from));
  return next?.getTime();
}

export interface ScorecardSenderOptions {
  config: ScorecardConfig;
  sources: ScorecardSources;
  transport: MailTransport;
  registry: Registry;
  logger: Logger;
  /** This process's id in the claims table; random by default. */
  instance?: string;
  now?: () => number;
  /** Wait between claiming and reading the claim back. Default 3 s. */
  settleMs?: number;
  /** First retry wait; default 5 s (tests shorten it). */
  retryBaseMs?: number;
}

/**
 * Sends each configured team its scorecard for the last complete ISO week, on the schedule in
 * the team's time zone, exactly once per (team, week) across restarts and instances (see
 * claims.ts). At start it catches up a week whose send was missed or interrupted.
 */
export class ScorecardSender {
  readonly instance: string;
  private readonly options: ScorecardSenderOptions;
  private readonly metrics: ScorecardMetrics;
  private readonly now: () => number;
  private readonly jobs: Cron[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly abort = new AbortController();
  private stopped = false;

  constructor(options: ScorecardSenderOptions) {
    this.options = options;
    this.instance = options.instance ?? randomUUID();
    this.now = options.now ?? Date.now;
    this.metrics = new ScorecardMetrics(options.registry);
  }

  start(): void {
    if (this.stopped || this.jobs.length > 0) return;
    const { config } = this.options;
    for (const { team } of config.teams) {
      const timezone = teamTimeZone(config, team);
      this.jobs.push(new Cron(config.schedule, { timezone, protect: true }, () => this.track(this.sendDue(team))));
      this.track(this.sendDue(team));
    }
  }

  private track(p: Promise<unknown>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** The last complete week of the team, now. */
  private async sendDue(team: string): Promise<void> {
    const week = lastCompleteWeek(this.now(), teamTimeZone(this.options.config, team)).label;
    try {
      const outcome = await this.send(team, week);
      if (outcome === 'held_elsewhere' || outcome === 'failed') this.recheckAfterLease(team);
    } catch (error) {
      this.options.logger.error({ err: error, team, week }, 'scorecard not sent');
    }
  }

  /** A claim held elsewhere is looked at again once it could have gone stale (its holder died). */
  private recheckAfterLease(team: string): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.track(this.sendDue(team));
    }, this.options.config.claimLease + 1_000);
    timer.unref();
    this.timers.add(timer);
  }

  /** Claims, renders and sends one team's week; retries the mail server with backoff. */
  async send(team: string, week: string): Promise<SendOutcome> {
    const { config, sources, transport, logger } = this.options;
    const recipients = config.teams.find((t) => t.team === team)?.to;
    if (!recipients) throw new Error(`scorecard.teams has no recipients for team "${team}"`);
    const key = `scorecard:${team}:${week}`;
    const claim: ClaimResult = await claimReport(sources.store, key, this.instance, {
      now: this.now,
      leaseMs: config.claimLease,
      settleMs: this.options.settleMs ?? 3_000,
      sleep: (ms) => sleep(ms, this.abort.signal),
    });
    if (!claim.won) {
      const outcome: SendOutcome = claim.reason === 'sent' ? 'already_sent' : claim.reason === 'held' ? 'held_elsewhere' : 'lost_claim';
      this.metrics.sends.inc({ team, outcome });
      logger.info({ team, week, by: claim.by, outcome }, 'scorecard sent or being sent by another instance');
      return outcome;
    }
    if (this.abort.signal.aborted) {
      // Stopping: the claim goes stale after claimLease and the next start sends it.
      logger.info({ team, week }, 'scorecard claimed while stopping; left for the next start');
      return 'failed';
    }
    const data = await gatherScorecard(sources, team, week, teamTimeZone(config, team), this.now());
    const composed = await composeScorecard(data, 'cid');
    const mail = scorecardMail(composed, config.from, recipients);
    const failures = new FailureLog((error, attempt, waitMs, message) => {
      logger.warn({ team, week, attempt, retryInMs: waitMs, error: message }, 'scorecard send failed, retrying');
    });
    try {
      await retry(() => transport.sendMail(mail), {
        baseMs: this.options.retryBaseMs ?? 5_000,
        maxMs: 300_000,
        deadlineMs: config.retryFor,
        isRetryable: () => true,
        onRetry: (error, attempt, waitMs) => {
          this.metrics.retries.inc({ team });
          failures.onRetry(error, attempt, waitMs);
        },
        signal: this.abort.signal,
      });
    } catch (error) {
      this.metrics.sends.inc({ team, outcome: 'failed' });
      logger.error({ team, week, err: error }, 'scorecard send failed; the claim goes stale and is retried after claimLease');
      return 'failed';
    }
    await markSent(sources.store, key, claim.round, this.instance, this.now());
    this.metrics.sends.inc({ team, outcome: 'sent' });
    this.metrics.lastSent.set({ team }, this.now() / 1000);
    logger.info({ team, week, to: recipients.length, empty: composed.view.empty }, 'scorecard sent');
    return 'sent';
  }

  /** Stops the schedule and pending retries; waits for sends in flight. Safe twice and before start(). */
  async shutdown(): Promise<void> {
    this.stopped = true;
    for (const job of this.jobs.splice(0)) job.stop();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.abort.abort();
    await Promise.allSettled([...this.inFlight]);
    this.options.transport.close();
  }
}
