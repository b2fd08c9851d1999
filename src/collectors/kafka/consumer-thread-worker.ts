/**
 * The kafkajs consumer of `kafka.consumerThread`, run in a worker thread (consumer-thread.ts is
 * the main thread's side). It fetches and decodes, packs each batch into transferable arrays and
 * posts it, so the main thread does no Kafka protocol work; everything a batch leads to (decode,
 * stitch, store, commit) stays on the main thread.
 *
 * Up to `inFlight` batches may wait on the main thread: the worker resolves a batch's offsets as
 * it posts it (that only moves the fetch position; commits are the main thread's, after the
 * store), and beyond that it waits in eachBatch, heartbeating, until the main thread acks one.
 * A rebalance bumps the generation in shared memory first, so the main thread drops the batches
 * still waiting from before it: Kafka hands them out again from the commits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Kafka, type Consumer, type ConsumerConfig, type IHeaders, type KafkaConfig, type logLevel as LogLevelEnum, type LogEntry } from 'kafkajs';
import { CoPartitionedAssigner } from './co-partitioned-assigner.ts';
import type { BatchMessage, Command, PackedBatch, WorkerInput } from './consumer-thread.ts';

const input = workerData as WorkerInput;
const port = parentPort!;
const generation = new Int32Array(input.generation);

const log = (level: LogLevelEnum) => (entry: LogEntry) => {
  const { message, timestamp: _t, logger: _l, ...fields } = entry.log;
  let cloneable: Record<string, unknown>;
  try {
    cloneable = JSON.parse(JSON.stringify(fields)) as Record<string, unknown>;
  } catch {
    cloneable = {};
  }
  port.postMessage({ kind: 'log', level, message, fields: cloneable });
};
const kafka = new Kafka({ ...(input.client as KafkaConfig), logCreator: () => (entry) => log(entry.level)(entry) });
const consumer: Consumer = kafka.consumer({ ...(input.consumer as ConsumerConfig), partitionAssigners: [CoPartitionedAssigner] });

let inFlight = 0;
let wake: (() => void) | undefined;

consumer.on(consumer.events.REBALANCING, () => {
  // Before the group re-forms: batches waiting on the main thread are from the old assignment.
  Atomics.add(generation, 0, 1);
});
consumer.on(consumer.events.GROUP_JOIN, (event) => {
  // A join without a rebalance first (the coordinator forgot this member, a restart after a
  // crash) also makes whatever was fetched before it stale.
  Atomics.add(generation, 0, 1);
  port.postMessage({ kind: 'event', type: 'group-join', memberAssignment: event.payload.memberAssignment, generation: Atomics.load(generation, 0) });
});
consumer.on(consumer.events.CRASH, (event) => {
  const error = event.payload.error;
  port.postMessage({ kind: 'event', type: 'crash', error: { name: error.name, message: error.message, stack: error.stack }, restart: event.payload.restart });
});

/** The first value of each header, as a string (as the collector's headersOf makes them). */
function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const name in headers) {
    const value = headers[name];
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}

function pack(topic: string, partition: number, highWatermark: string, messages: readonly BatchMessage[]): { packed: PackedBatch; transfer: ArrayBuffer[] } {
  const n = messages.length;
  let size = 0;
  for (const m of messages) size += (m.value?.length ?? 0) + (m.key?.length ?? 0);
  const bytes = new Uint8Array(size);
  const lengths = new Int32Array(2 * n);
  const offsets: string[] = new Array(n);
  const timestamps: string[] = new Array(n);
  const headers: Record<string, string>[] = new Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    for (const [slot, part] of [[2 * i, m.value], [2 * i + 1, m.key]] as const) {
      if (part) {
        bytes.set(part, at);
        at += part.length;
        lengths[slot] = part.length;
      } else lengths[slot] = -1;
    }
    offsets[i] = m.offset;
    timestamps[i] = m.timestamp;
    headers[i] = headerStrings(m.headers);
  }
  const packed: PackedBatch = { kind: 'batch', generation: Atomics.load(generation, 0), topic, partition, highWatermark, bytes: bytes.buffer, lengths, offsets, timestamps, headers };
  return { packed, transfer: [bytes.buffer, lengths.buffer] };
}

async function run(): Promise<void> {
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 1,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      if (batch.messages.length === 0 || !isRunning() || isStale()) return;
      const { packed, transfer } = pack(batch.topic, batch.partition, batch.highWatermark, batch.messages);
      inFlight++;
      port.postMessage(packed, transfer);
      resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
      while (inFlight >= input.inFlight && isRunning()) {
        await Promise.race([new Promise<void>((resolve) => (wake = resolve)), new Promise((resolve) => setTimeout(resolve, 1_000))]);
        await heartbeat().catch(() => undefined);
      }
    },
  });
}

const commands: Record<Command['op'], (command: Command) => Promise<unknown> | unknown> = {
  connect: () => consumer.connect(),
  subscribe: (c) => consumer.subscribe((c as Extract<Command, { op: 'subscribe' }>).args),
  run: () => run(),
  pause: (c) => consumer.pause((c as Extract<Command, { op: 'pause' }>).args),
  resume: (c) => consumer.resume((c as Extract<Command, { op: 'resume' }>).args),
  commit: (c) => consumer.commitOffsets((c as Extract<Command, { op: 'commit' }>).args),
  disconnect: () => consumer.disconnect(),
  ack: () => {
    inFlight--;
    wake?.();
  },
};

port.on('message', (command: Command) => {
  Promise.resolve()
    .then(() => commands[command.op](command))
    .then(
      () => command.id !== undefined && port.postMessage({ kind: 'reply', id: command.id }),
      (error: unknown) => {
        const e = error instanceof Error ? error : new Error(String(error));
        if (command.id !== undefined) port.postMessage({ kind: 'reply', id: command.id, error: { name: e.name, message: e.message, stack: e.stack } });
      },
    );
});
