import type { Alert } from '../types.ts';
import { inhibitedBy, type InhibitRule } from '../inhibit/inhibit.ts';
import { holdBackFiring } from './mute.ts';
import type { NotifyContext, NotifyStage, StageResult } from './stage.ts';

/** Holds back firing alerts that a firing source alert inhibits. */
export class InhibitStage implements NotifyStage {
  readonly name = 'inhibit';
  private readonly rules: readonly InhibitRule[];
  /** Every alert the lifecycle holds now: the candidate sources. */
  private readonly currentAlerts: () => readonly Alert[];

  constructor(rules: readonly InhibitRule[], currentAlerts: () => readonly Alert[]) {
    this.rules = rules;
    this.currentAlerts = currentAlerts;
  }

  exec(ctx: NotifyContext, alerts: readonly Alert[]): StageResult {
    if (this.rules.length === 0) return { ctx, alerts };
    const sources = this.currentAlerts();
    return holdBackFiring(ctx, alerts, (a) => inhibitedBy(this.rules, sources, a.labels, a.annotations, a.startsAt) !== undefined, 'inhibited');
  }
}
