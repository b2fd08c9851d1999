import type { Logger } from 'pino';
import { context, SpanStatusCode, trace, type Context, type Tracer } from '@opentelemetry/api';
import { ATTR_CORRELATION_IDS, correlationIds, NO_TRACER } from '../telemetry/self/self-tracing.ts';
import type { DeadLetter, DeadLetterReason, DeadLetterSink } from '../domain/dead-letter.ts';
import { batchRows, type Store, type StoreBatch } from '../domain/store.ts';
import type { WorkflowDefinition } from '../domain/workflow.ts';
import type { SourceConfig } from '../collectors/config.ts';
import { checkContract, decoderFor, type Decoder, type EventContract, type RawMessage } from '../collectors/decode/index.ts';
import type { Intake, OffsetCommitter, PartitionPosition, ProcessResult } from '../collectors/intake.ts';
import { Stitcher } from '../stitch/stitcher.ts';
import { SloJudge } from '../slo/outcome.ts';
import type { SloDefinition } from '../slo/types.ts';
import type { AlertEngine } from '../alerts/engine.ts';
import { compileClassifier, type ErrorClassificationConfig } from '../alerts/detectors/error-class.ts';
import type { PipelineMetrics } from '../telemetry/pipeline-metrics.ts';
import type { PipelineConfig } from './config.ts';
import { OffsetTracker } from './offsets.ts';
import { readRecovery } from './recovery.ts';
import { ReplayBounds } from './replay-bounds.ts';
import { CommitFailedError, Flush, type Stage } from './stage.ts';
import { CountStage } from './stages/count-stage.ts';
import { DetectStage } from './stages/detect-stage.ts';
import { StitchStage } from './stages/stitch-stage.ts';
import { TraceExportStage } from './stages/trace-stage.ts';
import type { BusinessTraceSink } from '../domain/business-trace.ts';
import { CommitStage, DeadLetterStage, StateStage, StoreStage } from './stages/write-stages.ts';

/** State that moves with a partition: loaded when it is assigned, forgotten when it moves away. */
export interface PartitionState {
  adopt(partitions: readonly number[]): Promise<void>;
  release(partitions: readonly number[]): void;
  /** Called before each commit, so committed messages never lose what they changed. */
  save(): Promise<void>;
}

export interface IngestOptions {
  sources: readonly SourceConfig[];
  workflows: readonly WorkflowDefinition[];
  slos: readonly SloDefinition[];
  pipeline: PipelineConfig;
  /** How reported errors are classified for `seamwatch_event_errors_total`. */
  errors?: ErrorClassificationConfig;
  store: Store;
  deadLetterSink: DeadLetterSink;
  commit: OffsetCommitter;
  metrics: PipelineMetrics;
  logger: Logger;
  /** Business-alert detectors, fed each new event and each run change. */
  alerts?: AlertEngine;
  /** Where the traces of runs that reached a verdict go (`telemetry.traces`); none by default. */
  traces?: { sink: BusinessTraceSink; exportOpen: boolean };
  /** State owned per partition beside the runs (the alerts): taken over, handed over and saved with them. */
  partitionState?: PartitionState;
  now?: () => number;
  /** Self-tracing: a span per flush, with a child per stage that delivers (the store write among them). */
  tracer?: Tracer;
  /**
   * Partitions owned whatever a Kafka assignment says: those of the HTTP intake, which no
   * rebalance hands to another instance.
   */
  alwaysOwned?: Readonly<Record<string, readonly number[]>>;
}

/** The longest a run of held-step evictions goes without a log line. */
const HELD_WARN_EVERY_MS = 60_000;

/** What process() answers for every accepted message (one object, not one per message). */
const PROCESSED: ProcessResult = Object.freeze({ ok: true });

/**
 * The ingest chain, independent of where messages come from: decode, then the stages in order
 * (stitch, which dedupes first and judges SLOs; count; detect; store; dead letters; alert
 * state; commit).
 * Rows are buffered and written in batches; offsets are committed only after the store (and
 * the dead-letter topic) acknowledged everything before them: at-least-once, and replay-safe
 * because every row is idempotent. Recovery of newly owned partitions is orchestrated here too.
 */
export class IngestPipeline implements Intake {
  readonly stitcher: Stitcher;
  readonly stages: readonly Stage[];
  /** Per topic: its decoder and the one source allowed to speak on it. */
  private readonly decoders: Map<string, { decode: Decoder; contract: EventContract }>;
  /** The stages that look at each event, in order (asked per event, so the others are left out). */
  private readonly eventStages: readonly Stage[];
  private readonly options: IngestOptions;
  private readonly offsets = new OffsetTracker();
  /** Messages a flush had stored before a restart or rebalance: counted as replayed on /metrics. */
  private readonly replays = new ReplayBounds();
  /** Partitions owned as of the last assignment. */
  private owned = new Set<number>();
  private deadLetters: DeadLetter[] = [];
  /** Rows of a flush that failed, written with the next one. */
  private unwritten: StoreBatch | undefined;
  private flushChain: Promise<void> = Promise.resolve();
  private queuedFlush: Promise<void> | undefined;
  private inflightRows = 0;
  private lastFlush: number;
  private readonly now: () => number;
  private readonly abort = new AbortController();
  /** Held steps let go at the cap, as of the last warning; warned at most once per HELD_WARN_EVERY_MS. */
  private heldEvictedWarned = 0;
  private lastHeldWarning = Number.NEGATIVE_INFINITY;
  /**
   * The event-time watermark as of the last flush the store acknowledged: every run verdict and
   * SLO outcome decided by then is in the store. SLO evaluation reads up to here, not further.
   * It never moves back (see lastStoredWatermark).
   */
  storedWatermark = Number.NEGATIVE_INFINITY;
  /**
   * The watermark the last acknowledged flush was judged at, as it was: lower than
   * storedWatermark after a rebalance handed over a partition with a backlog (it holds the
   * instance-wide watermark, see stitch/watermark.ts, until it caught up). What this instance
   * tells the group it has stored (slo/group-watermark.ts).
   */
  lastStoredWatermark = Number.NEGATIVE_INFINITY;
  /** Flushes started, and the number of the last one the store acknowledged. */
  private flushesStarted = 0;
  private lastStoredFlush = 0;
  /** Per partition number rebuilt here: how many flushes had started when its rebuild ended. */
  private readonly rebuiltAt = new Map<number, number>();

  constructor(options: IngestOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.lastFlush = this.now();
    const { pipeline, metrics, logger } = options;
    this.stitcher = new Stitcher(options.workflows, pipeline, new SloJudge(options.slos, pipeline.allowedLateness));
    const { maxFieldLength, maxTimeAhead } = pipeline;
    this.decoders = new Map(options.sources.map((s) => [s.topic, { decode: decoderFor(s), contract: { source: s.name, maxFieldLength, maxTimeAhead } }]));
    const write = { metrics, logger, signal: this.abort.signal };
    this.stages = [
      new StitchStage(this.stitcher, metrics, (event) => this.replays.isReplay(event)),
      new CountStage(metrics, compileClassifier(options.errors), (event) => this.replays.isReplay(event)),
      ...(options.alerts ? [new DetectStage(options.alerts, (now) => this.stitcher.watermarkAt(now))] : []),
      new StoreStage(options.store, write),
      ...(options.traces ? [new TraceExportStage({ ...options.traces, runOf: (runId) => this.stitcher.run(runId), redelivered: () => this.stitcher.takeRedelivered(), logger })] : []),
      new DeadLetterStage(options.deadLetterSink, write),
      ...(options.partitionState ? [new StateStage(() => options.partitionState!.save(), write)] : []),
      new CommitStage(options.commit, metrics),
    ];
    this.eventStages = this.stages.filter((stage) => stage.onEvent !== undefined);
  }

  get topics(): string[] {
    return [...this.decoders.keys()];
  }

  process(message: RawMessage): ProcessResult {
    const decoder = this.decoders.get(message.origin.topic);
    const now = this.now();
    // The contract is checked before any stage: a bad event must not reach event time or a run.
    const result = decoder
      ? checkContract(decoder.decode(message), decoder.contract, now)
      : ({ ok: false, reason: 'not-cloudevent', detail: `no source configured for topic "${message.origin.topic}"` } as const);
    if (result.ok) {
      for (const stage of this.eventStages) if (stage.onEvent!(result.event, now) === false) break;
      this.offsets.processed(message.origin.topic, message.origin.partition, message.origin.offset);
      return PROCESSED;
    }
    this.refuse(message, result.reason, result.detail);
    return { ok: false, reason: result.reason, detail: result.detail };
  }

  refuse(message: RawMessage, reason: DeadLetterReason, detail: string): void {
    this.deadLetters.push({ reason, detail, origin: message.origin, raw: message.value, headers: message.headers, key: message.key, at: this.now() });
    this.options.metrics.deadLetter(message.origin.topic, reason);
    this.offsets.processed(message.origin.topic, message.origin.partition, message.origin.offset);
  }

  partitionBacklog(topic: string, partition: number, hasBacklog: boolean): void {
    this.stitcher.partitionBacklog(topic, partition, hasBacklog, this.now());
  }

  partitionEventTime(topic: string, partition: number): number {
    return this.stitcher.partitionEventTime(topic, partition);
  }

  heldStepsShare(): number {
    const max = this.options.pipeline.maxHeldSteps;
    return Number.isFinite(max) && max > 0 ? this.stitcher.heldCount() / max : 0;
  }

  partitionsPaused(count: number): void {
    this.options.metrics.partitionsPausedAhead.set(count);
  }

  /**
   * Rebuilds what newly owned partitions hold: a partition that still has messages to read
   * holds event time back; then the store's runs and detector memory are read and handed to
   * every stage.
   */
  async recover(positions: readonly PartitionPosition[]): Promise<void> {
    const started = this.now();
    for (const p of positions) {
      const start = BigInt(p.committed) < 0n ? BigInt(p.low) : BigInt(p.committed);
      this.stitcher.partitionBacklog(p.topic, p.partition, start < BigInt(p.high), this.now());
    }
    const { alerts, pipeline, partitionState } = this.options;
    // The alerts saved with these partitions come first: replayed input then lands on them.
    await partitionState?.adopt([...new Set(positions.map((p) => p.partition))]);
    const recovered = await readRecovery(this.options.store, positions, pipeline, alerts?.hasEventDetectors ? alerts.inputs : undefined, this.now());
    const now = this.now();
    this.replays.recovered(positions, recovered.events);
    for (const stage of this.stages) stage.onRecover?.(recovered, now);
    for (const p of positions) this.rebuiltAt.set(p.partition, this.flushesStarted);
    if (recovered.leftOut) {
      this.options.logger.warn(
        { correlationIds: recovered.leftOut, recoveryMaxEvents: pipeline.recoveryMaxEvents },
        'recovery read back pipeline.recoveryMaxEvents events and left the rest out: steps of those runs that arrive now start afresh',
      );
    }
    this.options.logger.info(
      { partitions: [...new Set(positions.map((p) => p.partition))], events: recovered.events.length, runs: recovered.runs.length, detectorEvents: recovered.detectorEvents.length + recovered.uncommittedDetectorEvents.length, ms: this.now() - started },
      'recovered open runs from the store',
    );
  }

  retainPartitions(kafkaAssignment: Readonly<Record<string, readonly number[]>>): number {
    const assignment = { ...kafkaAssignment, ...this.options.alwaysOwned };
    const owned = new Set(Object.values(assignment).flat());
    this.offsets.retain((topic, partition) => (assignment[topic] ?? []).includes(partition));
    this.replays.retain((topic, partition) => (assignment[topic] ?? []).includes(partition));
    const moved = [...this.owned].filter((p) => !owned.has(p));
    this.owned = owned;
    for (const p of this.rebuiltAt.keys()) if (!owned.has(p)) this.rebuiltAt.delete(p);
    if (moved.length > 0) this.options.partitionState?.release(moved);
    return this.stitcher.dropPartitions((partition) => owned.has(partition));
  }

  /** Rows processed but not yet acknowledged by the store. */
  get bufferedRows(): number {
    return this.stitcher.pendingRows + this.deadLetters.length + this.inflightRows + (this.unwritten ? batchRows(this.unwritten) : 0);
  }

  /** True when a flush is due by size or by time. */
  flushDue(): boolean {
    const { flushRows, flushInterval } = this.options.pipeline;
    const pending = this.stitcher.pendingRows + this.deadLetters.length + (this.unwritten ? batchRows(this.unwritten) : 0);
    if (pending >= flushRows) return true;
    if (this.now() - this.lastFlush < flushInterval) return false;
    // Also when only event time moved on (sources quiet): deadlines and SLO verdicts may be due.
    return this.offsets.size > 0 || pending > 0 || this.stitcher.watermarkAt(this.now()) - this.storedWatermark >= 60_000;
  }

  overloaded(): boolean {
    return this.bufferedRows >= this.options.pipeline.maxBufferedRows;
  }

  tick(): void {
    const now = this.now();
    for (const stage of this.stages) stage.onTick?.(now);
  }

  /**
   * Writes everything buffered and commits the offsets behind it. Flushes run one after
   * another; each takes a consistent snapshot of the stages' output and the offsets.
   */
  flush(): Promise<void> {
    // One flush waits behind the running one at most: while the store is down, timers keep
    // asking for flushes, and each would otherwise queue up for nothing.
    if (this.queuedFlush) return this.queuedFlush;
    const next = this.flushChain.then(() => {
      this.queuedFlush = undefined;
      return this.flushOnce();
    });
    this.queuedFlush = next;
    this.flushChain = next.catch(() => undefined);
    return next;
  }

  private async flushOnce(): Promise<void> {
    this.lastFlush = this.now();
    const number = ++this.flushesStarted;
    const flush = new Flush(this.now(), this.deadLetters, this.offsets.take());
    this.deadLetters = [];
    flush.carry(this.unwritten);
    this.unwritten = undefined;
    try {
      // Everything due at this watermark is judged first, so the flush holds every verdict up to it.
      for (const stage of this.stages) stage.collect?.(flush);
    } catch (error) {
      this.giveBack(flush);
      throw error;
    }
    const rows = flush.rows;
    if (rows === 0 && flush.offsets.length === 0) {
      // Nothing was decided that is not stored already: event time is stored up to here.
      this.noteStored(flush.watermark, number);
      return;
    }
    const { metrics, logger } = this.options;
    const timer = metrics.flushSeconds.startTimer();
    this.inflightRows = rows;
    metrics.bufferedRows.set(this.bufferedRows);
    const span = this.flushSpan(flush);
    const traced = trace.setSpan(context.active(), span);
    try {
      for (const stage of this.stages) {
        if (stage.deliver) await this.deliverTraced(stage, flush, traced);
        if (flush.stored) this.noteStored(flush.watermark, number);
      }
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      // The rows are stored; only the commit failed (a rebalance, usually). Whoever reads
      // these messages again writes the same rows, so this is safe to leave for later.
      if (error instanceof CommitFailedError) {
        this.offsets.restore(flush.offsets);
        logger.warn({ err: error.cause, partitions: flush.offsets.length }, 'offset commit failed; will retry with the next flush');
      } else {
        this.giveBack(flush);
        throw error;
      }
    } finally {
      span.end();
      this.inflightRows = 0;
      timer();
      metrics.bufferedRows.set(this.bufferedRows);
    }
  }

  private flushSpan(flush: Flush) {
    const tracer = this.options.tracer ?? NO_TRACER;
    const { batch } = flush;
    const span = tracer.startSpan('seamwatch.flush');
    if (span.isRecording()) {
      span.setAttributes({
        'seamwatch.flush.events': batch.events.length,
        'seamwatch.flush.runs': batch.runs.length,
        'seamwatch.flush.spans': batch.spans.length,
        'seamwatch.flush.dead_letters': batch.deadLetters.length,
        'seamwatch.flush.offsets': flush.offsets.length,
        [ATTR_CORRELATION_IDS]: correlationIds([...batch.runs.map((r) => r.correlationId), ...batch.events.map((e) => e.correlationId)]),
      });
    }
    return span;
  }

  /** One stage's delivery as a child span of the flush: `seamwatch.store` is the store write. */
  private async deliverTraced(stage: Stage, flush: Flush, parent: Context): Promise<void> {
    const span = (this.options.tracer ?? NO_TRACER).startSpan(`seamwatch.${stage.name}`, {}, parent);
    try {
      await context.with(trace.setSpan(parent, span), () => stage.deliver!(flush));
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  }

  /**
   * A flush that failed before its commit: its offsets go back, and so do its rows. Were the
   * rows dropped, the next flush would commit offsets past messages whose rows were never written
   * (the stitcher hands each row out once), and a crash after that would lose them for good.
   */
  private giveBack(flush: Flush): void {
    this.offsets.restore(flush.offsets);
    this.unwritten = flush.batch;
  }

  private noteStored(watermark: number, flush: number): void {
    if (watermark > this.storedWatermark) this.storedWatermark = watermark;
    this.lastStoredWatermark = watermark;
    if (flush > this.lastStoredFlush) this.lastStoredFlush = flush;
  }

  /**
   * Whether lastStoredWatermark speaks for this partition number: it was rebuilt here and a flush
   * begun after that is stored (until then, a partition taken over with a backlog is not yet in
   * the watermark its flushes are judged at).
   */
  storedSinceRebuilt(partition: number): boolean {
    const at = this.rebuiltAt.get(partition);
    return at !== undefined && at < this.lastStoredFlush;
  }

  /** Stops retrying store writes: used on shutdown deadline. */
  abortRetries(): void {
    this.abort.abort();
  }

  /** One line per interval, with the count, however many held steps were let go in it. */
  private warnHeldEvictions(now: number): void {
    const evicted = this.stitcher.counters.heldEvicted;
    if (evicted === this.heldEvictedWarned || now - this.lastHeldWarning < HELD_WARN_EVERY_MS) return;
    this.options.logger.warn(
      { evicted: evicted - this.heldEvictedWarned, held: this.stitcher.heldCount(), maxHeldSteps: this.options.pipeline.maxHeldSteps },
      'held steps let go: more steps wait for their trigger than pipeline.maxHeldSteps (a trigger source down?); they stay in the events table',
    );
    this.heldEvictedWarned = evicted;
    this.lastHeldWarning = now;
  }

  updateGauges(): void {
    const { metrics } = this.options;
    for (const [state, count] of Object.entries(this.stitcher.stateCounts())) metrics.runsInMemory.set({ state }, count);
    metrics.heldEvents.set(this.stitcher.heldCount());
    metrics.bufferedRows.set(this.bufferedRows);
    metrics.stitchTotals(this.stitcher.counters);
    const now = this.now();
    this.warnHeldEvictions(now);
    // Asked first: asking is also what lets a partition that caught up rejoin.
    metrics.watermarkLag(now, this.stitcher.watermarkAt(now));
    metrics.partitionsCatchingUp.set(this.stitcher.partitionsCatchingUp);
  }
}
