import type { WorkflowEvent } from '../../domain/event.ts';
import type { RedeliveryRecord } from '../../domain/records.ts';
import type { Stitcher } from '../../stitch/stitcher.ts';
import type { PipelineMetrics } from '../../telemetry/pipeline-metrics.ts';
import type { Flush, RecoveredPartitions, Stage } from '../stage.ts';
import { appendAll } from '../../base/append.ts';

/** Redeliveries kept per flush for traces; past this they are only counted (seamwatch_events_duplicate_total). */
export const MAX_REDELIVERIES_PER_FLUSH = 10_000;

/**
 * Dedupe and stitch: a redelivery stops here (and is noted for the trace); a new event joins its run. At a flush it judges
 * everything due at the watermark (the run verdicts, and through the stitcher's judge, SLOs) and
 * hands out the changed events, runs, spans and SLO outcomes.
 */
export class StitchStage implements Stage {
  readonly name = 'stitch';
  private readonly stitcher: Stitcher;
  private readonly metrics: PipelineMetrics;
  private redeliveries: RedeliveryRecord[] = [];

  private readonly isReplay: (event: WorkflowEvent) => boolean;

  constructor(stitcher: Stitcher, metrics: PipelineMetrics, isReplay: (event: WorkflowEvent) => boolean = () => false) {
    this.stitcher = stitcher;
    this.metrics = metrics;
    this.isReplay = isReplay;
  }

  onEvent(event: WorkflowEvent, now: number): boolean {
    if (this.stitcher.apply(event, now)) return true;
    // A replay after a restart is expected: neither a producer's redelivery nor a row for one.
    if (this.isReplay(event)) {
      this.metrics.eventsReplayed.inc({ source: this.metrics.sourceLabel(event.source) });
      return false;
    }
    this.metrics.duplicates.inc();
    if (this.redeliveries.length < MAX_REDELIVERIES_PER_FLUSH) {
      this.redeliveries.push({ correlationId: event.correlationId, source: event.source, eventId: event.id, origin: event.origin, receivedAt: now });
    }
    return false;
  }

  onTick(now: number): void {
    this.stitcher.tick(now);
  }

  collect(flush: Flush): void {
    this.stitcher.tick(flush.now);
    flush.watermark = this.stitcher.watermarkAt(flush.now);
    const output = this.stitcher.drain(flush.now);
    appendAll(flush.batch.events, output.events);
    appendAll(flush.batch.runs, output.runs);
    appendAll(flush.batch.spans, output.spans);
    appendAll(flush.batch.sloOutcomes, output.sloOutcomes);
    if (this.redeliveries.length > 0) appendAll((flush.batch.redeliveries ??= []), this.redeliveries);
    this.redeliveries = [];
  }

  onRecover(recovered: RecoveredPartitions, now: number): void {
    this.stitcher.restore(recovered, now);
  }
}
