// Before any kafkajs client: no 1 ms re-check loop on idle connections.
import './request-queue-fix.ts';
import { Kafka, Partitioners, type Admin, type Consumer, type EachBatchPayload, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { ATTR_CORRELATION_IDS, correlationIds, NO_TRACER } from '../../telemetry/self/self-tracing.ts';
import { FailureLog, retry } from '../../base/retry.ts';
import type { DeadLetterSink } from '../../domain/dead-letter.ts';
import type { LogLevel } from '../../telemetry/config.ts';
import type { SourceConfig } from '../config.ts';
import type { Intake, OffsetCommitter, PartitionPosition } from '../intake.ts';
import type { KafkaConfig } from './config.ts';
import { CoPartitionedAssigner } from './co-partitioned-assigner.ts';
import { ensureTopics } from './topics.ts';
import { KafkaDeadLetterSink } from './dead-letter-producer.ts';
import { kafkajsLevel, kafkajsLogCreator } from './kafkajs-logger.ts';
import { AlignedFeed } from './aligned-feed.ts';

export type CollectorState = 'initialized' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface KafkaCollectorOptions {
  kafka: KafkaConfig;
  sources: readonly SourceConfig[];
  logLevel: LogLevel;
  logger: Logger;
  /** Builds what messages are fed to (the pipeline) once the collector can hand it a dead-letter sink and a committer. */
  intake: (parts: { deadLetterSink: DeadLetterSink; commit: OffsetCommitter }) => Intake;
  now?: () => number;
  onBackpressure?: () => void;
  /** How long a stop waits for the last flush before it gives up on it (ms). */
  finalFlushDeadline?: number;
  /** Self-tracing: a span per consumed batch. */
  tracer?: Tracer;
  /** How long rebuilding newly assigned partitions may keep failing before the collector gives up (ms). */
  recoveryDeadline?: number;
  /** Told once when the collector gave up and consumes no more: the process should stop with an error. */
  onFailure?: (error: Error) => void;
  /** Told each assignment (partitions by topic), after the intake let go of what moved away. */
  onAssigned?: (assignment: Readonly<Record<string, readonly number[]>>) => void;
  /** Told when what this instance owns is in doubt until the next assignment: a rebalance began, or the consumer crashed. */
  onRevoked?: () => void;
}

/** How often the collector moves event time on and checks whether a flush is due. */
const TICK_MS = 200;
/** Gauges that count over every run in memory are refreshed this often. */
const GAUGES_EVERY_MS = 5_000;


/**
 * Kafka source: one consumer group over every configured topic. Offsets are committed only
 * after the store acknowledged the rows behind them. When partitions are assigned, the intake
 * rebuilds what they own before their first message is processed.
 */
export class KafkaCollector {
  private state: CollectorState = 'initialized';
  private readonly options: KafkaCollectorOptions;
  private readonly kafka: Kafka;
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly admin: Admin;
  readonly intake: Intake;
  private readonly logger: Logger;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private readonly activeBatches = new Set<Promise<void>>();
  /** Partition numbers owned now (by the co-partitioned assignment), and those rebuilt. */
  private assigned = new Set<number>();
  /** The assignment those numbers come from, by topic (a new object at every assignment). */
  private assignment: Record<string, number[]> = {};
  /** The source topics' partition counts (from start), and whether the assignment covers them all. */
  private partitionCounts = new Map<string, number>();
  private holdsEveryPartition = false;
  private readonly recovered = new Set<number>();
  /**
   * Partitions kept through the last assignment: nothing to rebuild, but the alignment forgot them
   * with the assignment and must count them again (where they resume, how far they go) before a
   * batch is fed, or the first batch of a retained partition would run ahead of the others.
   */
  private unobserved = new Set<number>();
  private recovering: Promise<void> | undefined;
  private joined = false;
  private stopPromise: Promise<void> | undefined;
  private lastGauges = 0;
  private missing: string[] = [];
  private consuming = false;
  /** Set when rebuilding partitions failed past its deadline: nothing more is consumed. */
  private failure: Error | undefined;
  /** Feeds messages to the intake with partitions kept together in event time (see aligned-feed.ts). */
  private readonly feed: AlignedFeed;

  constructor(options: KafkaCollectorOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    const { kafka, sources, logger } = options;
    this.logger = logger.child({ component: 'kafka-collector' });
    this.kafka = new Kafka({
      clientId: kafka.clientId,
      brokers: kafka.brokers,
      logLevel: kafkajsLevel(options.logLevel),
      logCreator: kafkajsLogCreator(logger),
      retry: { retries: 8, initialRetryTime: 300 },
    });
    this.consumer = this.kafka.consumer({
      groupId: kafka.groupId,
      sessionTimeout: kafka.sessionTimeout,
      heartbeatInterval: Math.min(3_000, Math.floor(kafka.sessionTimeout / 3)),
      partitionAssigners: [CoPartitionedAssigner],
      maxBytesPerPartition: kafka.maxBytesPerPartition,
      maxBytes: Math.max(16 * 1024 * 1024, kafka.maxBytesPerPartition),
      maxWaitTimeInMs: 250,
      // Never let a metadata request create a source topic with the broker's default partition count (topics.ts).
      allowAutoTopicCreation: false,
    });
    this.producer = this.kafka.producer({ allowAutoTopicCreation: false, idempotent: false, createPartitioner: Partitioners.DefaultPartitioner });
    this.admin = this.kafka.admin();
    const dlqTopics = new Map(sources.map((s) => [s.topic, s.deadLetterTopic]));
    const deadLetterSink = new KafkaDeadLetterSink(this.producer, (topic) => dlqTopics.get(topic) ?? `${topic}.dlq`);
    this.intake = options.intake({
      deadLetterSink,
      commit: (offsets) => this.consumer.commitOffsets([...offsets]),
    });
    this.feed = new AlignedFeed({
      intake: this.intake,
      logger: this.logger,
      maxEventTimeSkew: kafka.maxEventTimeSkew,
      now: this.now,
      pause: (partitions) => this.consumer.pause(partitions),
      resume: (partitions) => this.consumer.resume(partitions),
      stopRequested: () => this.stopRequested(),
      flushIfDue: () => {
        if (this.intake.flushDue()) this.flushInBackground();
      },
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => this.onAssignment(event.payload.memberAssignment));
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      this.joined = false;
      this.logger.error({ err: event.payload.error, restart: event.payload.restart }, 'consumer crashed');
      this.options.onRevoked?.();
    });
    this.consumer.on(this.consumer.events.REBALANCING, () => this.options.onRevoked?.());
  }

  private stopRequested(): boolean {
    return this.state === 'stopping' || this.state === 'stopped';
  }

  get ready(): boolean {
    return this.state === 'running' && this.joined && !this.failure;
  }

  /** Why the collector gave up, if it did. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Source topics waited for (not created: see topics.ts), for /readyz. */
  get missingTopics(): readonly string[] {
    return this.missing;
  }

  get lifecycle(): CollectorState {
    return this.state;
  }

  /**
   * Connects, waits for the source topics (created only with kafka.createTopics), joins the
   * group. Returns once consuming has begun, or when a stop was asked for while waiting.
   */
  async start(): Promise<void> {
    if (this.state !== 'initialized') throw new Error(`cannot start a collector that is ${this.state}`);
    this.state = 'starting';
    const { kafka, sources } = this.options;
    const topics = sources.map((s) => s.topic);
    await this.admin.connect();
    const present = await ensureTopics({
      admin: this.admin,
      plans: sources.map((s) => ({ topic: s.topic, deadLetterTopic: s.deadLetterTopic })),
      create: kafka.createTopics,
      logger: this.logger,
      onMissing: (missing) => (this.missing = [...missing]),
      stopped: () => this.stopRequested(),
    });
    if (!present) return;
    this.partitionCounts = present;
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics, fromBeginning: kafka.fromBeginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.trackBatch(payload),
    });
    this.consuming = true;
    this.timer = setInterval(() => this.onTick(), TICK_MS);
    this.timer.unref();
    this.state = 'running';
    this.logger.info({ topics, groupId: kafka.groupId }, 'consuming');
  }

  /** The partition numbers this instance owns now (across every source topic, by the co-partitioned assignment). */
  get partitions(): ReadonlySet<number> {
    return this.assigned;
  }

  /** How many partitions each source topic had at start. */
  get topicPartitionCounts(): ReadonlyMap<string, number> {
    return this.partitionCounts;
  }

  /**
   * Whether this instance holds every partition of every source topic now: the only one in its
   * consumer group, so what it sees of the alerts is all there is (storms resolve on that).
   * False before the first assignment and when topics grew partitions since start.
   */
  ownsEveryPartition(): boolean {
    return this.joined && this.holdsEveryPartition;
  }

  private onAssignment(assignment: Record<string, number[]>): void {
    this.feed.assigned();
    const partitions = new Set(Object.values(assignment).flat());
    const movedAway = [...this.recovered].filter((p) => !partitions.has(p));
    for (const p of movedAway) this.recovered.delete(p);
    this.unobserved = new Set([...this.recovered].filter((p) => partitions.has(p)));
    const dropped = this.intake.retainPartitions(assignment);
    if (movedAway.length > 0) this.logger.info({ partitions: movedAway, runsDropped: dropped }, 'partitions moved away');
    this.assigned = partitions;
    this.assignment = assignment;
    this.holdsEveryPartition =
      this.partitionCounts.size > 0 &&
      [...this.partitionCounts].every(([topic, count]) => {
        const held = new Set(assignment[topic] ?? []);
        return Array.from({ length: count }, (_, p) => p).every((p) => held.has(p));
      });
    this.joined = true;
    this.logger.info({ assignment }, 'partitions assigned');
    this.options.onAssigned?.(assignment);
    // Rebuild at once, not at the first message: after a restart with no new traffic, deadlines,
    // detector timers and SLO evaluation must still move on from what the store holds.
    this.ensureRecovered().catch((error: unknown) => this.logger.warn({ err: error }, 'rebuilding assigned partitions failed; retried at the next batch'));
  }

  private trackBatch(payload: EachBatchPayload): Promise<void> {
    const batch = this.handleBatch(payload);
    this.activeBatches.add(batch);
    return batch.finally(() => this.activeBatches.delete(batch));
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if ((this.state !== 'running' && this.state !== 'starting') || this.failure) return;
    try {
      await this.waitWithHeartbeat(this.ensureRecovered(), heartbeat);
    } catch (error) {
      // Given up (see giveUp): the batch is left unread and uncommitted.
      if (this.failure) return;
      throw error;
    }
    const { intake } = this;
    let last: string | undefined;
    // Semantic conventions for messaging: "process <destination>", a CONSUMER span per batch.
    const span = (this.options.tracer ?? NO_TRACER).startSpan(`process ${batch.topic}`, {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': batch.topic,
        'messaging.destination.partition.id': String(batch.partition),
        'messaging.consumer.group.name': this.options.kafka.groupId,
        'messaging.batch.message_count': batch.messages.length,
      },
    });
    let fed = { fed: 0, parked: false };
    // Feeding never yields to the event loop, so kafkajs cannot stop or seek during it: asked
    // once (isStale builds a JSON key per call), not per message.
    try {
      if (isRunning() && !isStale()) fed = this.feed.batch(batch.topic, batch.partition, batch.messages, batch.highWatermark);
      // Past a parked rest too: the feed holds it, and commits are ours, after the store.
      last = batch.messages[(fed.parked ? batch.messages.length : fed.fed) - 1]?.offset;
      // Producers key messages by correlation ID (the event contract).
      if (span.isRecording()) span.setAttribute(ATTR_CORRELATION_IDS, correlationIds(batch.messages.slice(0, fed.fed).map((m) => m.key?.toString() ?? '')));
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
    // Resolving once per batch is enough for the next fetch.
    if (last !== undefined) resolveOffset(last);
    if (intake.flushDue()) this.flushInBackground();
    if (intake.overloaded()) {
      // Back-pressure: stop taking messages until the store has caught up. Heartbeats go on so
      // that a slow store does not look like a dead consumer and cause a rebalance.
      intake.updateGauges();
      this.options.onBackpressure?.();
      while (intake.overloaded() && this.state === 'running') {
        await this.waitWithHeartbeat(this.flushQuietly(), heartbeat);
      }
    }
  }

  /**
   * Has the intake rebuild what newly assigned partitions own, once per assignment, and the
   * alignment count every assigned partition (the kept ones too) before a batch is fed.
   */
  private ensureRecovered(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const pending = [...this.assigned].filter((p) => !this.recovered.has(p));
    const unobserved = this.unobserved;
    const kept = [...unobserved];
    if (pending.length === 0 && kept.length === 0) return this.recovering ?? Promise.resolve();
    if (this.recovering) return this.recovering.then(() => this.ensureRecovered());
    const failures = new FailureLog((error, attempt, waitMs) =>
      this.logger.warn({ err: error, attempt, waitMs, partitions: pending }, 'cannot rebuild open runs from the store yet; retrying'),
    );
    const deadlineMs = this.options.recoveryDeadline ?? Number.POSITIVE_INFINITY;
    const assignment = this.assignment;
    let attempts = 0;
    this.recovering = retry(
      async () => {
        attempts++;
        const positions = await this.positions([...pending, ...kept]);
        const rebuild = new Set(pending);
        await this.intake.recover(positions.filter((p) => rebuild.has(p.partition)));
        // A newer assignment came while this one was rebuilt: what it moved away was rebuilt
        // after the intake let it go, so it goes again, and only what is still held is counted.
        if (this.assignment !== assignment) this.intake.retainPartitions(this.assignment);
        this.feed.recovered(positions.filter((p) => this.assigned.has(p.partition)));
      },
      { baseMs: 500, maxMs: 10_000, deadlineMs, isRetryable: () => !this.stopRequested(), onRetry: failures.onRetry },
    )
      .then(() => {
        for (const p of pending) if (this.assigned.has(p)) this.recovered.add(p);
        // The set of this assignment: a newer one has its own, with its kept partitions still to count.
        for (const p of kept) unobserved.delete(p);
      })
      .catch((error: unknown) => {
        if (!this.stopRequested()) this.giveUp(error, pending, attempts, deadlineMs);
        throw error;
      })
      .finally(() => {
        this.recovering = undefined;
      });
    return this.recovering;
  }

  /**
   * The store did not answer for the whole recovery deadline: rather than retry forever behind a
   * ready-looking process, stop consuming (nothing is committed, nothing lost) and say so.
   */
  private giveUp(error: unknown, partitions: readonly number[], attempts: number, deadlineMs: number): void {
    if (this.failure) return;
    const reason = error instanceof Error ? error.message : String(error);
    this.failure = new Error(`cannot rebuild partitions ${partitions.join(', ')} from the store after ${attempts} attempts in ${Math.round(deadlineMs / 1000)} s (pipeline.recoveryDeadline): ${reason}`, { cause: error });
    this.consumer.pause(this.options.sources.map((s) => ({ topic: s.topic })));
    this.logger.error({ err: error, partitions, attempts }, 'giving up rebuilding partitions from the store: not consuming; stop and restart once the store answers');
    this.options.onFailure?.(this.failure);
  }

  /** Where the group resumes reading these partitions of every topic, and how far they go. */
  private async positions(partitions: readonly number[]): Promise<PartitionPosition[]> {
    const topics = this.options.sources.map((s) => s.topic);
    const committed = await this.admin.fetchOffsets({ groupId: this.options.kafka.groupId, topics });
    const out: PartitionPosition[] = [];
    for (const topic of topics) {
      const resume = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const end of await this.admin.fetchTopicOffsets(topic)) {
        if (!partitions.includes(end.partition)) continue;
        const from = resume.find((p) => p.partition === end.partition)?.offset ?? '-1';
        out.push({ topic, partition: end.partition, committed: from, low: end.low, high: end.high });
      }
    }
    return out;
  }

  private async waitWithHeartbeat(work: Promise<unknown>, heartbeat: () => Promise<void>): Promise<void> {
    let done = false;
    const finished = work.finally(() => {
      done = true;
    });
    while (!done) {
      await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
      if (!done) await heartbeat().catch(() => undefined);
    }
    await finished;
  }

  private flushQuietly(): Promise<void> {
    return this.intake.flush().catch((error: unknown) => {
      this.logger.error({ err: error }, 'flush failed');
    });
  }

  private flushInBackground(): void {
    void this.flushQuietly();
  }

  private onTick(): void {
    if (this.state !== 'running') return;
    this.intake.tick();
    if (this.now() - this.lastGauges >= GAUGES_EVERY_MS) {
      this.lastGauges = this.now();
      this.intake.updateGauges();
    }
    if (this.intake.flushDue()) this.flushInBackground();
    this.feed.tick();
  }

  /**
   * Stops intake, lets the batch in hand finish, writes and commits what was processed, then
   * leaves the group. Safe to call twice and before start().
   */
  shutdown(): Promise<void> {
    this.stopPromise ??= this.stop();
    return this.stopPromise;
  }

  private async stop(): Promise<void> {
    const wasRunning = this.state === 'running' || this.state === 'starting';
    this.state = 'stopping';
    if (this.timer) clearInterval(this.timer);
    if (wasRunning) {
      // A stop while waiting for missing topics comes before the consumer ran: nothing to pause.
      if (this.consuming) this.consumer.pause(this.options.sources.map((s) => ({ topic: s.topic })));
      await Promise.allSettled([...this.activeBatches]);
      this.intake.tick();
      // A store that is down must not hold the stop forever: after the deadline, give up the
      // last flush. Nothing is lost: its offsets are not committed and will be read again.
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = await Promise.race([
        this.flushQuietly().then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.options.finalFlushDeadline ?? 15_000))),
      ]);
      clearTimeout(timer);
      if (gaveUp) {
        this.intake.abortRetries();
        this.logger.warn({ bufferedRows: this.intake.bufferedRows }, 'gave up the last flush: the store did not answer; these messages will be read again after a restart');
      }
    }
    const results = await Promise.allSettled([this.consumer.disconnect(), this.producer.disconnect(), this.admin.disconnect()]);
    for (const r of results) if (r.status === 'rejected') this.logger.warn({ err: r.reason }, 'disconnect failed');
    this.joined = false;
    this.state = 'stopped';
    this.logger.info('stopped');
  }
}
