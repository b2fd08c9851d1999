/**
 * The Kafka side of bench/thread-split.ts, run in a worker thread: a kafkajs consumer that
 * hands each batch's raw messages to the main thread and does nothing else with them.
 *
 * A batch crosses as one message: the values and keys packed into one ArrayBuffer that is
 * transferred (not copied), offsets and broker timestamps as numbers, headers already made
 * strings (as the collector's `headersOf` does) so the main thread gets them by structured
 * clone. At most `inFlight` batches wait on the main thread: beyond that the consumer stops in
 * eachBatch, as a real design would have to for back-pressure.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Kafka, logLevel } from 'kafkajs';
import { headersOf } from '../src/collectors/kafka/raw-message.ts';

export interface WorkerInput {
  brokers: string[];
  groupId: string;
  topics: string[];
  inFlight: number;
}

/** One batch as the main thread receives it. */
export interface PackedBatch {
  kind: 'batch';
  topic: string;
  partition: number;
  highWatermark: string;
  /** Values then keys, back to back; -1 length for a null. */
  bytes: ArrayBuffer;
  valueLengths: Int32Array;
  keyLengths: Int32Array;
  offsets: Float64Array;
  timestamps: Float64Array;
  headers: Record<string, string>[];
}

export interface WorkerReport {
  kind: 'report';
  /** This thread's CPU from its first batch to the stop request (ms). */
  cpuMs: number;
  /** Event-loop utilization over the same span. */
  elu: number;
}

const input = workerData as WorkerInput;
const port = parentPort!;


const threadCpuMs = () => {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
};

let waiting = 0;
let wake: (() => void) | undefined;
let started: { cpu: number; elu: ReturnType<typeof performance.eventLoopUtilization> } | undefined;

const kafka = new Kafka({ clientId: 'seamwatch-bench-worker', brokers: input.brokers, logLevel: logLevel.NOTHING });
const consumer = kafka.consumer({ groupId: input.groupId, maxBytesPerPartition: 4 * 1024 * 1024, maxBytes: 16 * 1024 * 1024, maxWaitTimeInMs: 250 });

port.on('message', (message: { kind: 'ack' } | { kind: 'stop' }) => {
  if (message.kind === 'ack') {
    waiting--;
    wake?.();
    return;
  }
  const report: WorkerReport = {
    kind: 'report',
    cpuMs: started ? threadCpuMs() - started.cpu : 0,
    elu: started ? performance.eventLoopUtilization(started.elu).utilization : 0,
  };
  port.postMessage(report);
  void consumer.disconnect().finally(() => process.exit(0));
});

await consumer.connect();
await consumer.subscribe({ topics: input.topics, fromBeginning: true });
await consumer.run({
  // As the collector runs its consumer; commits would be the main thread's, after the store.
  autoCommit: false,
  eachBatchAutoResolve: false,
  partitionsConsumedConcurrently: 1,
  eachBatch: async ({ batch, resolveOffset }) => {
    started ??= { cpu: threadCpuMs(), elu: performance.eventLoopUtilization() };
    const { messages } = batch;
    const n = messages.length;
    if (n === 0) return;
    const valueLengths = new Int32Array(n);
    const keyLengths = new Int32Array(n);
    const offsets = new Float64Array(n);
    const timestamps = new Float64Array(n);
    const headers: Record<string, string>[] = new Array(n);
    let size = 0;
    for (let i = 0; i < n; i++) {
      const m = messages[i]!;
      size += (m.value?.length ?? 0) + (m.key?.length ?? 0);
    }
    const bytes = new Uint8Array(size);
    let at = 0;
    for (let i = 0; i < n; i++) {
      const m = messages[i]!;
      if (m.value) {
        bytes.set(m.value, at);
        at += m.value.length;
        valueLengths[i] = m.value.length;
      } else valueLengths[i] = -1;
      offsets[i] = Number(m.offset);
      timestamps[i] = Number(m.timestamp);
      headers[i] = headersOf(m.headers);
    }
    for (let i = 0; i < n; i++) {
      const key = messages[i]!.key;
      if (key) {
        bytes.set(key, at);
        at += key.length;
        keyLengths[i] = key.length;
      } else keyLengths[i] = -1;
    }
    const packed: PackedBatch = { kind: 'batch', topic: batch.topic, partition: batch.partition, highWatermark: batch.highWatermark, bytes: bytes.buffer, valueLengths, keyLengths, offsets, timestamps, headers };
    waiting++;
    port.postMessage(packed, [bytes.buffer, valueLengths.buffer, keyLengths.buffer, offsets.buffer, timestamps.buffer]);
    resolveOffset(messages[n - 1]!.offset);
    while (waiting >= input.inFlight) await new Promise<void>((resolve) => (wake = resolve));
  },
});
