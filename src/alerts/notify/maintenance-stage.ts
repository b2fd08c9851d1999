import type { Alert } from '../types.ts';
import { isInMaintenance, type MaintenanceWindow } from '../time-intervals/time-interval.ts';
import { holdBackFiring } from './mute.ts';
import type { NotifyContext, NotifyStage, StageResult } from './stage.ts';

/**
 * Holds back the firing alerts of a route that is muted now: one of its `mute_time_intervals`
 * is active, or it has `active_time_intervals` and none of them is.
 */
export class MaintenanceStage implements NotifyStage {
  readonly name = 'maintenance';
  private readonly windows: ReadonlyMap<string, MaintenanceWindow>;

  constructor(windows: readonly MaintenanceWindow[]) {
    this.windows = new Map(windows.map((w) => [w.name, w]));
  }

  /** Pure: whether a route with these intervals is muted at `now`. Unknown names are ignored (config checks them). */
  routeMuted(muteTimeIntervals: readonly string[], activeTimeIntervals: readonly string[], now: number): boolean {
    const pick = (names: readonly string[]) => names.flatMap((n) => this.windows.get(n) ?? []);
    if (isInMaintenance(pick(muteTimeIntervals), now)) return true;
    return activeTimeIntervals.length > 0 && !isInMaintenance(pick(activeTimeIntervals), now);
  }

  exec(ctx: NotifyContext, alerts: readonly Alert[]): StageResult {
    const muted = this.routeMuted(ctx.muteTimeIntervals, ctx.activeTimeIntervals, ctx.now);
    return holdBackFiring(ctx, alerts, () => muted, 'muted by a time interval');
  }
}
