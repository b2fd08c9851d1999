import { z } from 'zod';
import { durationSchema } from '../domain/duration.ts';

const duration = durationSchema();

/** The `pipeline:` section: batching, memory bounds and event-time settings of the ingest chain. */
export const pipelineSchema = z
  .object({
    flushRows: z.number().int().positive().default(20_000),
    flushInterval: duration.default(1_000),
    maxBufferedRows: z.number().int().positive().default(200_000),
    dedupeWindow: duration.default(600_000),
    dedupeMaxKeys: z.number().int().positive().default(500_000),
    holdUnmatchedFor: duration.default(3_600_000),
    allowedLateness: duration.default(30_000),
    idleAdvanceAfter: duration.default(30_000),
    closedRunRetention: duration.default(900_000),
    /** A run not finished after this long (event time) is given up: kept as it is, no longer tracked. */
    runHorizon: duration.default(7 * 86_400_000),
    closedRunMemory: z.number().int().positive().default(200_000),
    /** Wall time between SLO evaluation cycles. */
    sloEvaluateEvery: duration.default(10_000),
    /** On stop, how long to wait for the last flush when the store does not answer. */
    finalFlushDeadline: duration.default(15_000),
  })
  .strict();

export type PipelineConfig = z.output<typeof pipelineSchema>;
