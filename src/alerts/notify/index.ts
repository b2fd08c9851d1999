/** The notify path: what the alert lifecycle wires up. */
import type { Alert } from '../types.ts';
import type { InhibitRule } from '../inhibit/inhibit.ts';
import type { Silence } from '../silences/silence.ts';
import type { MaintenanceWindow } from '../time-intervals/time-interval.ts';
import { DedupStage } from './dedup-stage.ts';
import { InhibitStage } from './inhibit-stage.ts';
import { MaintenanceStage } from './maintenance-stage.ts';
import type { NotificationLog } from './notification-log.ts';
import type { Receiver } from './receiver.ts';
import { ReceiverStage } from './receiver-stage.ts';
import { RecordStage } from './record-stage.ts';
import { SilenceStage } from './silence-stage.ts';
import { PauseStage } from './pause-stage.ts';
import type { PagingPause } from '../../domain/controls.ts';
import type { NotifyStage } from './stage.ts';
import { StormStage, type StormStageHooks } from './storm-stage.ts';
import type { StormOptions } from './storm.ts';

export { runChain, notifyFlush, contextForFlush, type ChainResult } from './chain.ts';
export { decideDedup, type DedupDecision, type DedupInput, type NotificationLogEntry, type SendReason, type HoldReason } from './dedup.ts';
export { InMemoryNotificationLog, recordSent, pruneLog, logKey, EMPTY_NOTIFICATION_LOG, type NotificationLog, type NotificationLogState, type NotificationLogView } from './notification-log.ts';
export type { Notification, Receiver, DeliveryReport, DeliveryOutcome } from './receiver.ts';
export type { NotifyContext, NotifyStage, StageResult } from './stage.ts';
export { applyStorm, stormKey, isStormAlert, DEFAULT_STORM, STORM_LABEL, type StormOptions } from './storm.ts';
export { DedupStage, InhibitStage, MaintenanceStage, PauseStage, ReceiverStage, RecordStage, SilenceStage, StormStage };

export interface NotifyChainParts {
  inhibitRules: readonly InhibitRule[];
  /** Every alert the lifecycle holds now: inhibition sources. */
  currentAlerts: () => readonly Alert[];
  silences: () => readonly Silence[];
  timeIntervals: readonly MaintenanceWindow[];
  log: NotificationLog;
  receivers: readonly Receiver[];
  /** Receivers that turn many alerts of one detector and workflow into one incident (PagerDuty's `storm`). */
  storms?: ReadonlyMap<string, StormOptions>;
  /** The alerts list a storm incident links to, e.g. http://seamwatch:9470/api/v1/alerts */
  alertsUrl?: string;
  /** When a storm found clear here may be resolved (see storm.ts and storm-stage.ts). */
  stormHooks?: StormStageHooks;
  /** The paging pauses now (the operator's kill switch); none by default. */
  pauses?: () => readonly PagingPause[];
}

/**
 * The stages in order. Grouping and its timers come before (routing/grouping.ts flushes a
 * group into this chain), as Alertmanager's aggregation groups call its pipeline; then what
 * mutes (inhibit → silence → maintenance), storms (many alerts of one kind as one incident),
 * then dedup against the log, the receiver, and the record of what the receiver took. A paging
 * pause, when wired, goes first.
 */
export function buildNotifyChain(parts: NotifyChainParts): NotifyStage[] {
  return [
    ...(parts.pauses ? [new PauseStage(parts.pauses)] : []),
    new InhibitStage(parts.inhibitRules, parts.currentAlerts),
    new SilenceStage(parts.silences),
    new MaintenanceStage(parts.timeIntervals),
    new StormStage(parts.storms ?? new Map(), parts.log, parts.alertsUrl ?? 'http://127.0.0.1:9470/api/v1/alerts', parts.stormHooks),
    new DedupStage(parts.log),
    new ReceiverStage(parts.receivers),
    new RecordStage(parts.log),
  ];
}
