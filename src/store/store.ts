import type { DeadLetter } from '../collectors/dead-letter.ts';
import type { WorkflowEvent } from '../stitch/event.ts';
import type { EventRecord, RunRecord, RunState, SpanRecord, StitchOutput } from '../stitch/records.ts';

/** One flush: everything written together before the offsets behind it are committed. */
export interface StoreBatch extends StitchOutput {
  deadLetters: DeadLetter[];
}

/** What a restarted or newly assigned instance needs to rebuild its open runs. */
export interface Recovery {
  events: WorkflowEvent[];
  runs: { runId: string; state: RunState; version: number }[];
  /** Newest event time stored for these partitions, to seed the watermark. */
  maxEventTime: number | null;
}

export interface RecoveryQuery {
  /** Kafka partition numbers this instance owns; null means all. */
  partitions: number[] | null;
  /** Runs that started before this (epoch ms) are not recovered. */
  runsSince: number;
  /** Recent events (held steps waiting for a trigger) from this event time on. */
  heldSince: (maxEventTime: number) => number;
}

export interface Trace {
  correlationId: string;
  runs: RunRecord[];
  spans: SpanRecord[];
  events: EventRecord[];
}

/** The store of record. ClickHouse now; an embedded store answers the same calls later. */
export interface Store {
  readonly kind: string;
  /** Connects and applies migrations. */
  start(): Promise<void>;
  write(batch: StoreBatch): Promise<void>;
  recover(query: RecoveryQuery): Promise<Recovery>;
  trace(correlationId: string): Promise<Trace>;
  ping(): Promise<boolean>;
  /** Safe to call twice and before start(). */
  shutdown(): Promise<void>;
}

export function batchRows(batch: StoreBatch): number {
  return batch.events.length + batch.runs.length + batch.spans.length + batch.deadLetters.length;
}
