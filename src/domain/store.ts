import type { DeadLetter } from './dead-letter.ts';
import type { WorkflowEvent } from './event.ts';
import type { EventRecord, RedeliveryRecord, RunRecord, RunState, SpanRecord, StitchOutput } from './records.ts';
import type { Counts, MinuteCounts } from './slo-counts.ts';
import type { AlertRecords, SloDefinitionRecord } from './alert-records.ts';
import type { DeadLetterCount, FailureMode, ReportClaim, StepLatency, WeekRange, WorkflowRunStats } from './week-stats.ts';
import type { DeadLetterPage, DeadLetterQuery, RunPage, RunQuery, RunSloVerdict } from './browse.ts';

/** One flush: everything written together before the offsets behind it are committed. */
export interface StoreBatch extends StitchOutput {
  deadLetters: DeadLetter[];
  /** Events delivered again and dropped by the stitcher, for traces to show. */
  redeliveries?: RedeliveryRecord[];
}

/** What a restarted or newly assigned instance needs to rebuild its open runs. */
export interface Recovery {
  events: WorkflowEvent[];
  /** The runs as stored (newest version); `deadlineMissed`: its deadline had passed where it was judged. */
  runs: { runId: string; state: RunState; version: number; deadlineMissed?: boolean }[];
  /**
   * The event time every stored partition had reached: the oldest of their newest event
   * times. It seeds the watermark, which must not run ahead of a partition still behind.
   */
  maxEventTime: number | null;
  /** Correlation IDs not read back because `maxEvents` was reached (0 when none). */
  leftOut?: number;
}

export interface RecoveryQuery {
  /** Kafka partition numbers this instance owns; null means all. */
  partitions: number[] | null;
  /** How far back, in event time, unfinished runs are rebuilt (ms). */
  runHorizon: number;
  /** How far back, in event time, steps still waiting for their trigger are looked for (ms). */
  holdHorizon: number;
  /**
   * Where reading will resume: stored events at or past these offsets will be read again, so
   * every run they touch is rebuilt, finished or not. Offset "-1" means nothing was committed:
   * then only events within `runHorizon` are looked at, never the partition's whole history.
   */
  replayFrom: { topic: string; partition: number; offset: string }[];
  /**
   * Reading stops once this many events are read back (one slice of IDs may go past it).
   * Unfinished runs come first, then runs at or past the committed offsets, then steps that may
   * still wait for their trigger; what is past the limit is left out.
   */
  maxEvents?: number;
}

export interface Trace {
  correlationId: string;
  runs: RunRecord[];
  spans: SpanRecord[];
  events: EventRecord[];
  /** Deliveries of these events after the first, oldest first. */
  redeliveries: RedeliveryRecord[];
}

/** A minute range of one SLO's counts: [fromMinute, toMinute). */
export interface SloRange {
  slo: string;
  fromMinute: number;
  toMinute: number;
}

/** The store of record, as the pipeline, the SLO engine and the faces use it; store/ implements it. */
export interface Store {
  readonly kind: string;
  /** Connects and applies migrations. */
  start(): Promise<void>;
  write(batch: StoreBatch): Promise<void>;
  recover(query: RecoveryQuery): Promise<Recovery>;
  /**
   * The event time every stored partition (of these; null means all) had reached: the oldest of
   * their newest event times; null when none is stored. What recovery seeds the watermark with.
   */
  eventTimeReached(partitions: number[] | null): Promise<number | null>;
  trace(correlationId: string): Promise<Trace>;
  /** Runs by workflow, state and start time, each once at its newest version, newest start first. */
  runs(query: RunQuery): Promise<RunPage>;
  /** Dead letters by topic, reason and time, each message once, newest first. */
  deadLetters(query: DeadLetterQuery): Promise<DeadLetterPage>;
  /** The newest verdict of each of these SLOs on each of these runs: where a run counted. */
  runSloVerdicts(runIds: readonly string[], slos: readonly string[]): Promise<RunSloVerdict[]>;
  /** Per-minute good/total counts of each SLO over its range (minutes with no runs are absent). */
  sloMinutes(ranges: readonly SloRange[]): Promise<Map<string, MinuteCounts[]>>;
  /** Good/total summed over each SLO's range. */
  sloCounts(ranges: readonly SloRange[]): Promise<Map<string, Counts>>;
  /** Good/total per `bucketMinutes` over a range, for charts. */
  sloSeries(range: SloRange, bucketMinutes: number): Promise<MinuteCounts[]>;
  /** Stored events of these types, oldest first: what the alert detectors replay after a restart. */
  eventsOfTypes(types: readonly { source: string; type: string }[], partitions: number[] | null, since: number): Promise<WorkflowEvent[]>;
  /** Small state documents (alert state, notification log), newest version per key. */
  saveDocuments(docs: readonly { key: string; doc: string }[]): Promise<void>;
  loadDocuments(keys: readonly string[]): Promise<Map<string, string>>;
  /** Alert changes and delivered notifications as rows, for dashboards; replays replace. */
  writeAlertRecords(records: AlertRecords): Promise<void>;
  /** The configured SLOs (objective, window, burn tiers), newest per name, for dashboards. */
  writeSloDefinitions(definitions: readonly SloDefinitionRecord[]): Promise<void>;
  /** State documents whose key starts with `prefix`, newest version per key. */
  documentsWithPrefix(prefix: string): Promise<Map<string, string>>;
  /** Runs started in the range, per workflow (each run once). */
  workflowRuns(workflows: readonly string[], range: WeekRange): Promise<WorkflowRunStats[]>;
  /** The `limit` steps with the longest p95 time since the step before, over runs started in the range. */
  slowSteps(workflows: readonly string[], range: WeekRange, limit: number): Promise<StepLatency[]>;
  /** Steps whose newest span is failed, by error class and code, most frequent first. */
  failureModes(workflows: readonly string[], range: WeekRange, limit: number): Promise<FailureMode[]>;
  /** Dead letters stored in the range, by topic and reason. */
  deadLetterCounts(topics: readonly string[], range: WeekRange): Promise<DeadLetterCount[]>;
  /** Adds claim rows (idempotent: the same row twice is one). */
  addReportClaims(claims: readonly ReportClaim[]): Promise<void>;
  /** Every claim row for a report key. */
  reportClaims(key: string): Promise<ReportClaim[]>;
  ping(): Promise<boolean>;
  /** Safe to call twice and before start(). */
  shutdown(): Promise<void>;
}

export function batchRows(batch: StoreBatch): number {
  return batch.events.length + batch.runs.length + batch.spans.length + batch.deadLetters.length + batch.sloOutcomes.length + (batch.redeliveries?.length ?? 0);
}
