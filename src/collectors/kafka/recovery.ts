import type { Admin } from 'kafkajs';
import type { SeamwatchConfig } from '../../config/schema.ts';
import type { Stitcher } from '../../stitch/stitcher.ts';
import type { Recovery, Store } from '../../store/store.ts';
import type { AlertEngine } from '../../alerts/engine.ts';
import type { WorkflowEvent } from '../../stitch/event.ts';

/**
 * What the store must rebuild for newly assigned partitions: where reading will resume (the
 * committed offsets, so every stored event at or past them is rebuilt into its run), and which
 * partitions have a backlog (they hold event time back until their first batch is read).
 */
export async function recoverPartitions(
  admin: Admin,
  store: Store,
  config: SeamwatchConfig,
  stitcher: Stitcher,
  partitions: readonly number[],
  now: () => number,
  alerts?: AlertEngine,
): Promise<Recovery & { detectorEvents: WorkflowEvent[] }> {
  const topics = config.sources.map((s) => s.topic);
  const committed = await admin.fetchOffsets({ groupId: config.kafka.groupId, topics });
  const replayFrom = committed.flatMap(({ topic, partitions: list }) =>
    list.filter((p) => partitions.includes(p.partition)).map((p) => ({ topic, partition: p.partition, offset: p.offset })),
  );
  for (const topic of topics) {
    for (const end of await admin.fetchTopicOffsets(topic)) {
      if (!partitions.includes(end.partition)) continue;
      const from = replayFrom.find((o) => o.topic === topic && o.partition === end.partition)?.offset ?? '-1';
      const start = BigInt(from) < 0n ? BigInt(end.low) : BigInt(from);
      if (start < BigInt(end.high)) stitcher.partitionBacklog(topic, end.partition, true, now());
    }
  }
  const recovery = await store.recover({
    partitions: [...partitions],
    runHorizon: config.pipeline.runHorizon,
    holdHorizon: config.pipeline.holdUnmatchedFor,
    replayFrom,
  });
  // The alert detectors' memory (first invoices, open tickets) is rebuilt from the same store.
  const detectorEvents =
    alerts?.hasEventDetectors && recovery.maxEventTime !== null
      ? await store.eventsOfTypes(alerts.inputs.matchers, [...partitions], recovery.maxEventTime - alerts.inputs.horizonMs)
      : [];
  return { ...recovery, detectorEvents };
}
