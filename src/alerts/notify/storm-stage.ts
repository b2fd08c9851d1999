import type { Alert } from '../types.ts';
import type { NotificationLogView } from './notification-log.ts';
import type { NotifyContext, NotifyStage, StageResult } from './stage.ts';
import { applyStorm, type StormOptions } from './storm.ts';

/**
 * Puts one storm alert in place of the many alerts of one detector and workflow (see storm.ts),
 * for receivers that have `storm` configured (PagerDuty). Runs after the muting stages, so
 * silenced or inhibited alerts never count towards a storm, and before dedup, which sees the
 * covered alerts as part of the group (ctx.storm), so one joining the storm re-triggers it.
 */
export class StormStage implements NotifyStage {
  readonly name = 'storm';
  private readonly options: ReadonlyMap<string, StormOptions>;
  private readonly log: NotificationLogView;
  private readonly alertsUrl: string;
  private readonly mayResolve: () => boolean;
  private readonly onHeld: (storms: readonly string[], ctx: NotifyContext) => void;

  constructor(
    options: ReadonlyMap<string, StormOptions>,
    log: NotificationLogView,
    alertsUrl: string,
    /** Whether this instance sees every alert (see storm.ts); always, without a consumer group. */
    mayResolve: () => boolean = () => true,
    onHeld: (storms: readonly string[], ctx: NotifyContext) => void = () => {},
  ) {
    this.options = options;
    this.log = log;
    this.alertsUrl = alertsUrl;
    this.mayResolve = mayResolve;
    this.onHeld = onHeld;
  }

  exec(ctx: NotifyContext, alerts: readonly Alert[]): StageResult {
    const options = this.options.get(ctx.receiver);
    if (!options) return { ctx, alerts };
    const result = applyStorm({
      receiver: ctx.receiver,
      groupKey: ctx.groupKey,
      alerts,
      options,
      isOpen: (fingerprint) => this.log.isOpen(ctx.receiver, fingerprint),
      told: new Set(this.log.entry(ctx.receiver, ctx.groupKey)?.firing ?? []),
      alertsUrl: this.alertsUrl,
      now: ctx.now,
      mayResolve: this.mayResolve(),
    });
    if (result.held.length > 0) this.onHeld(result.held, ctx);
    const storms = Object.keys(result.covered).length;
    const covered = Object.values(result.covered).reduce((n, c) => n + c.length, 0);
    return { ctx: { ...ctx, storm: result.covered }, alerts: result.alerts, ...(storms > 0 ? { note: `${covered} in ${storms} storm incident(s)` } : {}) };
  }
}
