import type { WorkflowEvent } from '../domain/event.ts';
import type { Store } from '../domain/store.ts';
import type { PartitionPosition } from '../collectors/intake.ts';
import type { PipelineConfig } from './config.ts';
import type { RecoveredPartitions } from './stage.ts';

/** Which stored events the detectors rebuild their memory from. */
export interface DetectorInputs {
  matchers: { source: string; type: string }[];
  horizonMs: number;
}

/**
 * Reads back what newly assigned partitions hold: every stored event at or past the committed
 * offsets (they will be read again, so each run they touch is rebuilt, finished or not), open
 * runs within the horizon, and the events the detectors keep memory of.
 */
export async function readRecovery(
  store: Store,
  positions: readonly PartitionPosition[],
  pipeline: Pick<PipelineConfig, 'runHorizon' | 'holdUnmatchedFor' | 'recoveryMaxEvents'>,
  detectors: DetectorInputs | undefined,
  now: number,
): Promise<RecoveredPartitions> {
  const partitions = [...new Set(positions.map((p) => p.partition))];
  const stored = await store.recover({
    partitions,
    runHorizon: pipeline.runHorizon,
    holdHorizon: pipeline.holdUnmatchedFor,
    replayFrom: positions.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.committed })),
    maxEvents: pipeline.recoveryMaxEvents,
  });
  // The store may hold an event from the future, written before such events were refused (or by
  // an older instance): event time must not be seeded from it. Where stored time has reached is
  // never past the wall clock; a seed held back to it only waits for live events to move it on.
  const recovery = stored.maxEventTime === null ? stored : { ...stored, maxEventTime: Math.min(stored.maxEventTime, now) };
  // The alert detectors' memory (first invoices, open tickets) is rebuilt from the same store.
  const remembered =
    detectors && recovery.maxEventTime !== null ? await store.eventsOfTypes(detectors.matchers, partitions, recovery.maxEventTime - detectors.horizonMs) : [];
  const committed = new Map(positions.map((p) => [`${p.topic}\u0000${p.partition}`, BigInt(p.committed)]));
  const detectorEvents: WorkflowEvent[] = [];
  const uncommittedDetectorEvents: WorkflowEvent[] = [];
  for (const event of remembered) {
    const from = committed.get(`${event.origin.topic}\u0000${event.origin.partition}`);
    // Nothing committed (-1), or at/past the committed offset: the commit after it may never have happened.
    const uncommitted = from === undefined || from < 0n || BigInt(event.origin.offset) >= from;
    (uncommitted ? uncommittedDetectorEvents : detectorEvents).push(event);
  }
  return { ...recovery, detectorEvents, uncommittedDetectorEvents };
}
