import { Worker } from 'node:worker_threads';
import { logLevel, type ConsumerConfig, type EachBatchPayload, type KafkaConfig, type KafkaMessage, type TopicPartitionOffsetAndMetadata } from 'kafkajs';
import type { Logger } from 'pino';

/**
 * `kafka.consumerThread`: the kafkajs consumer in a worker thread (consumer-thread-worker.ts),
 * behind the part of kafkajs's Consumer the collector uses, so the collector runs the same with
 * either. Kafka's protocol work (fetching, decoding record batches, their garbage) leaves the
 * main thread; a batch reaches it as one message with its bytes transferred, not copied.
 *
 * Batches come in the order the worker posted them and are handed to eachBatch one at a time, as
 * kafkajs does with partitionsConsumedConcurrently 1. Two things differ from kafkajs in-thread,
 * and the collector is built for both:
 * - up to `inFlight` batches are fetched ahead, so a batch may come for a partition paused since
 *   (the aligned feed parks it behind what it already holds);
 * - a batch fetched before a rebalance is dropped, not handed out: its generation is older than
 *   the one the worker bumped when the rebalance began, and Kafka hands its messages out again
 *   from the commits to whoever owns the partition now.
 */

/** What the worker is started with. */
export interface WorkerInput {
  client: Omit<KafkaConfig, 'logCreator'>;
  consumer: Omit<ConsumerConfig, 'partitionAssigners'>;
  inFlight: number;
  /** An Int32 in shared memory: the worker's rebalance generation. */
  generation: SharedArrayBuffer;
}

/** The fields of a kafkajs message the worker packs. */
export interface BatchMessage {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: KafkaMessage['headers'];
}

/** A batch as it crosses: values and keys back to back in one transferred buffer. */
export interface PackedBatch {
  kind: 'batch';
  generation: number;
  topic: string;
  partition: number;
  highWatermark: string;
  bytes: ArrayBuffer;
  /** Per message, the value's then the key's length; -1 for none. */
  lengths: Int32Array;
  offsets: string[];
  timestamps: string[];
  headers: Record<string, string>[];
}

type TopicPartitions = { topic: string; partitions?: number[] }[];

export type Command =
  | { op: 'connect'; id: number }
  | { op: 'subscribe'; id: number; args: { topics: string[]; fromBeginning: boolean } }
  | { op: 'run'; id: number }
  | { op: 'pause'; id: number; args: TopicPartitions }
  | { op: 'resume'; id: number; args: TopicPartitions }
  | { op: 'commit'; id: number; args: TopicPartitionOffsetAndMetadata[] }
  | { op: 'disconnect'; id: number }
  | { op: 'ack'; id?: undefined };

type FromWorker =
  | PackedBatch
  | { kind: 'reply'; id: number; error?: SerializedError }
  | { kind: 'event'; type: 'group-join'; memberAssignment: Record<string, number[]>; generation: number }
  | { kind: 'event'; type: 'crash'; error: SerializedError; restart: boolean }
  | { kind: 'log'; level: logLevel; message: string; fields: Record<string, unknown> };

interface SerializedError {
  name: string;
  message: string;
  stack?: string | undefined;
}

type EachBatch = (payload: EachBatchPayload) => Promise<void>;

/** Batches fetched ahead of the main thread; enough to keep both threads busy, little memory. */
const IN_FLIGHT = 4;

const NO_OP = () => undefined;
const RESOLVED = () => Promise.resolve();

export class ThreadedConsumer {
  /** The event names the collector listens to, as kafkajs's consumer.events has them. */
  readonly events = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' } as const;
  private readonly worker: Worker;
  private readonly logger: Logger;
  private readonly generation: Int32Array;
  private readonly replies = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private readonly listeners = new Map<string, ((event: { payload: never }) => void)[]>();
  private nextId = 0;
  private eachBatch: EachBatch | undefined;
  /** Posted messages handled one after another, in order (batches, events). */
  private queue: Promise<void> = Promise.resolve();
  private running = false;
  private exited = false;

  constructor(client: Omit<KafkaConfig, 'logCreator'>, consumer: Omit<ConsumerConfig, 'partitionAssigners'>, logger: Logger) {
    this.logger = logger.child({ component: 'kafkajs' });
    const shared = new SharedArrayBuffer(4);
    this.generation = new Int32Array(shared);
    const workerData: WorkerInput = { client, consumer, inFlight: IN_FLIGHT, generation: shared };
    this.worker = new Worker(new URL('./consumer-thread-worker.ts', import.meta.url), { workerData, name: 'kafka-consumer' });
    this.worker.on('message', (message: FromWorker) => this.received(message));
    this.worker.on('error', (error) => {
      this.failAll(error);
      // As a kafkajs consumer that crashed for good: the collector stops counting as ready.
      this.emit(this.events.CRASH, { error, restart: false });
    });
    this.worker.on('exit', (code) => {
      this.exited = true;
      this.failAll(new Error(`the Kafka consumer thread exited (code ${code})`));
      if (this.running) this.emit(this.events.CRASH, { error: new Error(`the Kafka consumer thread exited (code ${code})`), restart: false });
    });
  }

  on(event: string, listener: (event: { payload: never }) => void): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }

  connect(): Promise<void> {
    return this.call({ op: 'connect', id: 0 });
  }

  subscribe(args: { topics: string[]; fromBeginning: boolean }): Promise<void> {
    return this.call({ op: 'subscribe', id: 0, args });
  }

  run(options: { eachBatch: EachBatch }): Promise<void> {
    this.eachBatch = options.eachBatch;
    this.running = true;
    return this.call({ op: 'run', id: 0 });
  }

  pause(partitions: TopicPartitions): void {
    void this.call({ op: 'pause', id: 0, args: partitions }).catch((error: unknown) => this.logger.warn({ err: error }, 'pausing partitions failed'));
  }

  resume(partitions: TopicPartitions): void {
    void this.call({ op: 'resume', id: 0, args: partitions }).catch((error: unknown) => this.logger.warn({ err: error }, 'resuming partitions failed'));
  }

  commitOffsets(offsets: TopicPartitionOffsetAndMetadata[]): Promise<void> {
    return this.call({ op: 'commit', id: 0, args: offsets });
  }

  /** Leaves the group (the batches still queued are not handed out) and ends the thread. */
  async disconnect(): Promise<void> {
    this.running = false;
    if (this.exited) return;
    try {
      await this.call({ op: 'disconnect', id: 0 });
    } finally {
      await this.worker.terminate();
    }
  }

  private call(command: Command): Promise<void> {
    if (this.exited) return Promise.reject(new Error('the Kafka consumer thread has exited'));
    const id = ++this.nextId;
    return new Promise<void>((resolve, reject) => {
      this.replies.set(id, { resolve, reject });
      this.worker.postMessage({ ...command, id });
    });
  }

  private failAll(error: Error): void {
    for (const { reject } of this.replies.values()) reject(error);
    this.replies.clear();
  }

  private emit(event: string, payload: unknown): void {
    for (const listener of this.listeners.get(event) ?? []) listener({ payload } as { payload: never });
  }

  private received(message: FromWorker): void {
    if (message.kind === 'reply') {
      const reply = this.replies.get(message.id);
      this.replies.delete(message.id);
      if (message.error) reply?.reject(Object.assign(new Error(message.error.message), { name: message.error.name, stack: message.error.stack }));
      else reply?.resolve();
      return;
    }
    if (message.kind === 'log') {
      this.log(message.level, message.message, message.fields);
      return;
    }
    // Batches and group events keep their order: an assignment comes after the batches before it.
    this.queue = this.queue.then(() => this.handle(message)).catch((error: unknown) => this.logger.error({ err: error }, 'handling a batch from the consumer thread failed'));
  }

  private async handle(message: PackedBatch | Extract<FromWorker, { kind: 'event' }>): Promise<void> {
    if (message.kind === 'event') {
      if (message.type === 'group-join') this.emit(this.events.GROUP_JOIN, { memberAssignment: message.memberAssignment });
      else this.emit(this.events.CRASH, { error: Object.assign(new Error(message.error.message), { name: message.error.name, stack: message.error.stack }), restart: message.restart });
      return;
    }
    try {
      // Fetched before a rebalance: Kafka hands it out again, from the commits, to its owner now.
      const stale = () => message.generation !== Atomics.load(this.generation, 0);
      if (!this.running || !this.eachBatch || stale()) return;
      await this.eachBatch({
        batch: { topic: message.topic, partition: message.partition, highWatermark: message.highWatermark, messages: unpack(message) },
        resolveOffset: NO_OP,
        heartbeat: RESOLVED,
        isRunning: () => this.running,
        isStale: stale,
      } as unknown as EachBatchPayload);
    } finally {
      if (!this.exited) this.worker.postMessage({ op: 'ack' } satisfies Command);
    }
  }

  private log(level: logLevel, message: string, fields: Record<string, unknown>): void {
    if (level === logLevel.ERROR) this.logger.error(fields, message);
    else if (level === logLevel.WARN) this.logger.warn(fields, message);
    else if (level === logLevel.INFO) this.logger.debug(fields, message);
    else this.logger.trace(fields, message);
  }
}

/** A packed batch as kafkajs messages: values and keys are views of the transferred bytes. */
function unpack(batch: PackedBatch): KafkaMessage[] {
  const { bytes, lengths, offsets, timestamps, headers } = batch;
  const out: KafkaMessage[] = new Array(offsets.length);
  let at = 0;
  const part = (length: number): Buffer | null => {
    if (length < 0) return null;
    const view = Buffer.from(bytes, at, length);
    at += length;
    return view;
  };
  for (let i = 0; i < offsets.length; i++) {
    const value = part(lengths[2 * i]!);
    const key = part(lengths[2 * i + 1]!);
    out[i] = { offset: offsets[i]!, timestamp: timestamps[i]!, key, value, headers: headers[i], attributes: 0, size: 0 } as unknown as KafkaMessage;
  }
  return out;
}
