import type { Alert } from '../types.ts';
import type { NotificationLogView } from './notification-log.ts';
import type { NotifyContext, NotifyStage, StageResult } from './stage.ts';
import { applyStorm, type HeldStorm, type StormInput, type StormOptions } from './storm.ts';

/**
 * Of these storm buckets, the ones no other instance of the consumer group has alerts of firing
 * for this receiver (as the store has their alert state). Asked only by an instance that does
 * not see every alert, for storms it found clear.
 */
export type ClearElsewhere = (receiver: string, buckets: readonly string[]) => Promise<ReadonlySet<string>>;

export interface StormStageHooks {
  /** Whether this instance sees every alert (see storm.ts); always, without a consumer group. */
  seesEveryAlert?: () => boolean;
  /** Where an instance that does not see every alert asks about the others' (see storm.ts). */
  clearElsewhere?: ClearElsewhere;
  /**
   * How long after a first "clear" it is asked again, the resolve sent only if both say so: an
   * alert that joined the storm at another instance a moment ago is in its saved state by then
   * (saved at once after its page). Default 3 s.
   */
  confirmClearAfterMs?: number;
  /** Told of storm resolves held back because other instances still have covered alerts firing. */
  onHeld?: (storms: readonly HeldStorm[], ctx: NotifyContext) => void;
  /** Told of storm resolves sent because the others' alerts of their bucket are over too. */
  onClearElsewhere?: (storms: readonly string[], ctx: NotifyContext) => void;
}

const CONFIRM_CLEAR_AFTER_MS = 3_000;

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
  private readonly hooks: StormStageHooks;

  constructor(options: ReadonlyMap<string, StormOptions>, log: NotificationLogView, alertsUrl: string, hooks: StormStageHooks = {}) {
    this.options = options;
    this.log = log;
    this.alertsUrl = alertsUrl;
    this.hooks = hooks;
  }

  async exec(ctx: NotifyContext, alerts: readonly Alert[]): Promise<StageResult> {
    const options = this.options.get(ctx.receiver);
    if (!options) return { ctx, alerts };
    const input: Omit<StormInput, 'mayResolve'> = {
      receiver: ctx.receiver,
      groupKey: ctx.groupKey,
      alerts,
      options,
      isOpen: (fingerprint) => this.log.isOpen(ctx.receiver, fingerprint),
      told: new Set(this.log.entry(ctx.receiver, ctx.groupKey)?.firing ?? []),
      alertsUrl: this.alertsUrl,
      now: ctx.now,
    };
    const seesAll = this.hooks.seesEveryAlert?.() ?? true;
    let result = applyStorm({ ...input, mayResolve: () => seesAll });
    const { clearElsewhere } = this.hooks;
    if (result.held.length > 0 && clearElsewhere) {
      // Pure, so asked again with what the store says of the others' alerts, read twice, apart.
      let clear = await clearElsewhere(ctx.receiver, [...new Set(result.held.map((h) => h.bucket))]);
      const confirmAfter = this.hooks.confirmClearAfterMs ?? CONFIRM_CLEAR_AFTER_MS;
      if (clear.size > 0 && confirmAfter > 0) {
        await new Promise((resolve) => setTimeout(resolve, confirmAfter));
        clear = await clearElsewhere(ctx.receiver, [...clear]);
      }
      if (clear.size > 0) {
        const before = result.held;
        result = applyStorm({ ...input, mayResolve: (bucket) => clear.has(bucket) });
        const sent = before.filter((h) => !result.held.some((still) => still.key === h.key)).map((h) => h.key);
        if (sent.length > 0) this.hooks.onClearElsewhere?.(sent, ctx);
      }
    }
    if (result.held.length > 0) this.hooks.onHeld?.(result.held, ctx);
    const storms = Object.keys(result.covered).length;
    const covered = Object.values(result.covered).reduce((n, c) => n + c.length, 0);
    return {
      ctx: { ...ctx, storm: result.covered, ...(result.held.length > 0 ? { heldStorms: result.held.map((h) => h.resolve) } : {}) },
      alerts: result.alerts,
      ...(storms > 0 ? { note: `${covered} in ${storms} storm incident(s)` } : {}),
    };
  }
}
