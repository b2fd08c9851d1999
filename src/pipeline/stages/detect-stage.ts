import type { WorkflowEvent } from '../../domain/event.ts';
import type { AlertEngine } from '../../alerts/engine.ts';
import type { Flush, RecoveredPartitions, Stage } from '../stage.ts';

/**
 * Feeds the business-alert detectors: each new event (redeliveries never get here, so a
 * redelivered invoice is not a duplicate), each changed run, and event time as it moves.
 */
export class DetectStage implements Stage {
  readonly name = 'detect';
  private readonly alerts: AlertEngine;
  private readonly watermarkAt: (now: number) => number;

  constructor(alerts: AlertEngine, watermarkAt: (now: number) => number) {
    this.alerts = alerts;
    this.watermarkAt = watermarkAt;
  }

  onEvent(event: WorkflowEvent, now: number): void {
    if (this.alerts.hasEventDetectors) this.alerts.onEvent(event, this.watermarkAt(now));
  }

  onTick(now: number): void {
    this.alerts.tick(this.watermarkAt(now));
  }

  collect(flush: Flush): void {
    this.alerts.onRunRecords(flush.batch.runs, flush.watermark);
  }

  onRecover(recovered: RecoveredPartitions): void {
    this.alerts.rebuild(recovered.detectorEvents, recovered.uncommittedDetectorEvents);
  }
}
