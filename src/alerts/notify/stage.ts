import type { Alert } from '../types.ts';
import type { FlushReason } from '../routing/aggregation-group.ts';
import type { Labels } from '../routing/labels.ts';
import type { DedupDecision } from './dedup.ts';
import type { DeliveryOutcome } from './receiver.ts';

/** What every stage knows about the notification in hand (Alertmanager passes it in a context). */
export interface NotifyContext {
  /** The flush time: the one clock reading the whole chain uses. */
  readonly now: number;
  readonly groupKey: string;
  readonly groupLabels: Labels;
  readonly receiver: string;
  readonly repeatIntervalMs: number;
  readonly muteTimeIntervals: readonly string[];
  readonly activeTimeIntervals: readonly string[];
  readonly flushReason: FlushReason;
  /** Firing alerts held back so far by inhibition, a silence or a muted time interval. */
  readonly muted?: number;
  /** Set by the storm stage: by storm alert fingerprint, the alerts it covers in this flush. */
  readonly storm?: Readonly<Record<string, readonly string[]>>;
  /**
   * Set by the storm stage: resolves of storms found clear here but held, since other instances
   * may still have alerts under them. The dispatcher gives them back to the group, so that the
   * storm is looked at again at the group's next flush.
   */
  readonly heldStorms?: readonly Alert[];
  /** Set by the dedup stage. */
  readonly dedup?: DedupDecision;
  /** Set by the receiver stage. */
  readonly delivery?: DeliveryOutcome;
  /** Set by the pause stage: how many triggers a paging pause held back. */
  readonly paused?: number;
}

export interface StageResult {
  ctx: NotifyContext;
  /** What the next stage gets. None left ends the chain: nothing to tell anybody. */
  alerts: readonly Alert[];
  /** Why alerts were held back, for the chain's result and logs ("2 silenced"). */
  note?: string;
}

/** One step of the notify path: inhibit, silence, maintenance, dedup, receiver, record. */
export interface NotifyStage {
  readonly name: string;
  exec(ctx: NotifyContext, alerts: readonly Alert[]): StageResult | Promise<StageResult>;
}
