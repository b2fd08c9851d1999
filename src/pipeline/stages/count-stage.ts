import type { WorkflowEvent } from '../../domain/event.ts';
import type { Classifier } from '../../alerts/detectors/error-class.ts';
import type { PipelineMetrics } from '../../telemetry/pipeline-metrics.ts';
import type { Stage } from '../stage.ts';

/** Counts accepted events by source, and the errors they report by class (a healed 429 too). */
export class CountStage implements Stage {
  readonly name = 'count';
  private readonly metrics: PipelineMetrics;
  private readonly classify: Classifier;

  constructor(metrics: PipelineMetrics, classify: Classifier) {
    this.metrics = metrics;
    this.classify = classify;
  }

  onEvent(event: WorkflowEvent): void {
    const source = this.metrics.sourceLabel(event.source);
    this.metrics.eventsReceived.inc({ source });
    if (event.error) this.metrics.eventErrors.inc({ source, class: this.classify(event.error) });
  }
}
