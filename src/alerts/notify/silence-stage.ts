import type { Alert } from '../types.ts';
import { isSilenced, type Silence } from '../silences/silence.ts';
import { holdBackFiring } from './mute.ts';
import type { NotifyContext, NotifyStage, StageResult } from './stage.ts';

/** Holds back firing alerts that an active silence matches at the flush time. */
export class SilenceStage implements NotifyStage {
  readonly name = 'silence';
  private readonly silences: () => readonly Silence[];

  constructor(silences: () => readonly Silence[]) {
    this.silences = silences;
  }

  exec(ctx: NotifyContext, alerts: readonly Alert[]): StageResult {
    const silences = this.silences();
    return holdBackFiring(ctx, alerts, (a) => isSilenced(silences, a.labels, ctx.now), 'silenced');
  }
}
