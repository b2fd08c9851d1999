import type { WorkflowEvent } from '../../domain/event.ts';
import type { Classifier } from '../../alerts/detectors/error-class.ts';
import type { PipelineMetrics } from '../../telemetry/pipeline-metrics.ts';
import type { Stage } from '../stage.ts';

/**
 * Counts accepted events by source, and the errors they report by class (a healed 429 too). A
 * replay (stored already, read again after a restart or rebalance) is counted as replayed, not
 * as received traffic.
 */
export class CountStage implements Stage {
  readonly name = 'count';
  private readonly metrics: PipelineMetrics;
  private readonly classify: Classifier;

  private readonly isReplay: (event: WorkflowEvent) => boolean;

  constructor(metrics: PipelineMetrics, classify: Classifier, isReplay: (event: WorkflowEvent) => boolean = () => false) {
    this.metrics = metrics;
    this.classify = classify;
    this.isReplay = isReplay;
  }

  onEvent(event: WorkflowEvent): void {
    if (this.isReplay(event)) {
      this.metrics.eventsReplayed.inc({ source: this.metrics.sourceLabel(event.source) });
      return;
    }
    this.metrics.received(event.source);
    if (event.error) this.metrics.eventErrors.inc({ source: this.metrics.sourceLabel(event.source), class: this.classify(event.error) });
  }
}
