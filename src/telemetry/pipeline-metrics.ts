import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { CounterDeltas } from '../base/counter-deltas.ts';
import type { DeadLetterReason } from '../domain/dead-letter.ts';

/** The stitcher's running totals that become metrics, and the label each one gets. */
const STITCH_EVENT_OUTCOMES = {
  unmatched: 'unmatched',
  lateForClosedRun: 'late_for_closed_run',
  extraTriggers: 'extra_trigger',
  heldExpired: 'held_expired',
  heldEvicted: 'held_evicted',
} as const;
const RUN_CHANGES = { runsStarted: 'started', runsEvicted: 'evicted' } as const;

/**
 * The pipeline's metrics. Labels come from short fixed lists (configured source names,
 * configured topics, reasons, tables); a correlation ID or business key is never a label.
 */
export class PipelineMetrics {
  readonly eventsReceived: Counter<'source'>;
  readonly eventsReplayed: Counter<'source'>;
  readonly duplicates: Counter;
  readonly deadLetters: Counter<'topic' | 'reason'>;
  readonly rowsWritten: Counter<'table'>;
  readonly flushSeconds: Histogram;
  readonly storeErrors: Counter<'retryable'>;
  readonly backpressureWaits: Counter;
  readonly bufferedRows: Gauge;
  readonly watermarkLagSeconds: Gauge;
  readonly runsInMemory: Gauge<'state'>;
  readonly heldEvents: Gauge;
  readonly committedOffset: Gauge<'topic' | 'partition'>;
  readonly eventErrors: Counter<'source' | 'class'>;
  readonly stitchEvents: Counter<'outcome'>;
  readonly runs: Counter<'change'>;
  readonly runsDue: Counter;
  readonly partitionsCatchingUp: Gauge;
  readonly partitionsPausedAhead: Gauge;
  private readonly knownSources: Set<string>;
  private readonly stitchDeltas = new CounterDeltas();
  /** Events accepted by source label since the counter was last read (see received). */
  private readonly receivedTally = new Map<string, number>();

  constructor(registry: Registry, sources: readonly string[]) {
    this.knownSources = new Set(sources);
    const registers = [registry];
    this.eventsReceived = new Counter({
      name: 'seamwatch_events_received_total',
      help: 'Decoded events accepted, by configured source ("other" for sources not in the config).',
      labelNames: ['source'],
      registers,
      collect: () => this.addReceived(),
    });
    this.eventsReplayed = new Counter({
      name: 'seamwatch_events_replayed_total',
      help: 'Events read again after a restart or rebalance that a flush had already stored (their commit never happened), by source: not new traffic.',
      labelNames: ['source'],
      registers,
    });
    this.duplicates = new Counter({ name: 'seamwatch_events_duplicate_total', help: 'Redelivered events (same source and id) that changed nothing.', registers });
    this.deadLetters = new Counter({
      name: 'seamwatch_dead_letters_total',
      help: 'Messages that could not be decoded or mapped, or broke the event contract (source-mismatch, time-in-future, field-too-long), sent to the dead-letter topic.',
      labelNames: ['topic', 'reason'],
      registers,
    });
    this.rowsWritten = new Counter({ name: 'seamwatch_store_rows_written_total', help: 'Rows acknowledged by the store.', labelNames: ['table'], registers });
    this.flushSeconds = new Histogram({
      name: 'seamwatch_store_flush_seconds',
      help: 'Time to write one batch to the store and commit its offsets.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.storeErrors = new Counter({ name: 'seamwatch_store_errors_total', help: 'Failed store writes, by whether they are retried.', labelNames: ['retryable'], registers });
    this.backpressureWaits = new Counter({ name: 'seamwatch_backpressure_waits_total', help: 'Times the consumer waited for the store because the buffer was full.', registers });
    this.bufferedRows = new Gauge({ name: 'seamwatch_buffered_rows', help: 'Rows waiting to be written to the store.', registers });
    this.watermarkLagSeconds = new Gauge({ name: 'seamwatch_watermark_lag_seconds', help: 'Wall clock minus the event-time watermark that SLO evaluation and detectors go by (seconds); it grows while a source is behind or a handed-over partition catches up.', registers });
    this.runsInMemory = new Gauge({ name: 'seamwatch_runs_in_memory', help: 'Workflow runs held by the stitcher, by state.', labelNames: ['state'], registers });
    this.heldEvents = new Gauge({ name: 'seamwatch_held_events', help: 'Steps waiting for their trigger to arrive.', registers });
    this.eventErrors = new Counter({
      name: 'seamwatch_event_errors_total',
      help: 'Events that reported an error, by error class (transient errors that a retry healed alert nothing by themselves).',
      labelNames: ['source', 'class'],
      registers,
    });
    this.stitchEvents = new Counter({
      name: 'seamwatch_stitch_events_total',
      help: 'Events the stitcher could not put in a run: unmatched (no workflow knows the type), late_for_closed_run (the run was closed and forgotten), extra_trigger (another trigger of an open run), held_expired (a step whose trigger never came within holdUnmatchedFor), held_evicted (a held step let go because pipeline.maxHeldSteps was reached).',
      labelNames: ['outcome'],
      registers,
    });
    this.runs = new Counter({
      name: 'seamwatch_runs_total',
      help: 'Workflow runs started, and evicted from memory (finished past closedRunRetention, or unfinished past runHorizon).',
      labelNames: ['change'],
      registers,
    });
    this.runsDue = new Counter({
      name: 'seamwatch_stitch_runs_due_total',
      help: "Runs the stitcher's tick took up because their deadline, an SLO decision or their forgetting came due: the tick's work, which follows this and not the runs held.",
      registers,
    });
    this.partitionsCatchingUp = new Gauge({
      name: 'seamwatch_partitions_catching_up',
      help: 'Partitions handed over with a backlog that are judged on their own event time until they catch up; SLO evaluation and detectors wait for them.',
      registers,
    });
    this.partitionsPausedAhead = new Gauge({
      name: 'seamwatch_partitions_paused_ahead',
      help: 'Partitions read from a backlog and paused because they ran more than kafka.maxEventTimeSkew ahead in event time of the others of their number; they go on once those catch up.',
      registers,
    });
    this.committedOffset = new Gauge({ name: 'seamwatch_committed_offset', help: 'Last committed offset per topic partition.', labelNames: ['topic', 'partition'], registers });
  }

  /**
   * Counts an accepted event. Per event, a counter's inc() hashes its labels into a key string;
   * a plain tally per source costs a Map look-up, and reaches the counter whenever it is read.
   */
  received(source: string): void {
    const label = this.sourceLabel(source);
    this.receivedTally.set(label, (this.receivedTally.get(label) ?? 0) + 1);
  }

  private addReceived(): void {
    for (const [source, count] of this.receivedTally) this.eventsReceived.inc({ source }, count);
    this.receivedTally.clear();
  }

  sourceLabel(source: string): string {
    return this.knownSources.has(source) ? source : 'other';
  }

  deadLetter(topic: string, reason: DeadLetterReason): void {
    this.deadLetters.inc({ topic, reason });
  }

  /** Brings the stitcher's running totals (plain numbers, so it stays free of I/O) into the counters. */
  stitchTotals(totals: Readonly<Record<keyof typeof STITCH_EVENT_OUTCOMES | keyof typeof RUN_CHANGES | 'runsVisited', number>>): void {
    for (const [name, outcome] of Object.entries(STITCH_EVENT_OUTCOMES)) {
      const delta = this.stitchDeltas.delta(name, totals[name as keyof typeof STITCH_EVENT_OUTCOMES]);
      if (delta > 0) this.stitchEvents.inc({ outcome }, delta);
    }
    for (const [name, change] of Object.entries(RUN_CHANGES)) {
      const delta = this.stitchDeltas.delta(name, totals[name as keyof typeof RUN_CHANGES]);
      if (delta > 0) this.runs.inc({ change }, delta);
    }
    const due = this.stitchDeltas.delta('runsVisited', totals.runsVisited);
    if (due > 0) this.runsDue.inc(due);
  }

  /** Wall clock minus the event-time watermark; left unset until event time has begun. */
  watermarkLag(now: number, watermark: number): void {
    if (Number.isFinite(watermark)) this.watermarkLagSeconds.set((now - watermark) / 1000);
  }
}
