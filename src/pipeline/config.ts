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
    /**
     * Most steps held waiting for their trigger (a trigger source down floods this). Past it the
     * longest-held go first: they stay in the events table, only a late trigger no longer finds them.
     */
    maxHeldSteps: z.number().int().positive().default(50_000),
    allowedLateness: duration.default(30_000),
    /**
     * An event stamped further ahead of the wall clock than this (a unix-ms value read as
     * seconds, a producer with a bad clock) is dead-lettered as time-in-future: one such event
     * would otherwise carry the watermark, and every deadline and detector window, with it.
     */
    maxTimeAhead: duration.default(300_000),
    /** Longest correlation ID, id, source or type accepted; longer ones are dead-lettered as field-too-long. */
    maxFieldLength: z.number().int().min(16).max(10_000).default(256),
    idleAdvanceAfter: duration.default(30_000),
    closedRunRetention: duration.default(900_000),
    /** A run not finished after this long (event time) is given up: kept as it is, no longer tracked. */
    runHorizon: duration.default(7 * 86_400_000),
    closedRunMemory: z.number().int().positive().default(200_000),
    /**
     * Most stored events read back when partitions are taken over (a bound on the memory a
     * restart needs); unfinished runs are read first, and what is left out is logged.
     */
    recoveryMaxEvents: z.number().int().positive().default(500_000),
    /**
     * How long taking over partitions may keep failing to read the store before seamwatch gives
     * up: it then stops with an error (exit 1, nothing committed), for a supervisor to restart it.
     */
    recoveryDeadline: duration.default(300_000),
    /** Wall time between SLO evaluation cycles. */
    sloEvaluateEvery: duration.default(10_000),
    /** On stop, how long to wait for the last flush when the store does not answer. */
    finalFlushDeadline: duration.default(15_000),
  })
  .strict();

export type PipelineConfig = z.output<typeof pipelineSchema>;
