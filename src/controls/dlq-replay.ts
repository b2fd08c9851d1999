import { checkContract, decoderFor, type EventContract, type RawMessage } from '../collectors/decode/index.ts';
import type { SourceConfig } from '../collectors/config.ts';
import type { Republished } from '../collectors/kafka/republisher.ts';
import type { ControlStore, StoredDeadLetter } from '../domain/controls.ts';

/** What a replay found: how many letters now decode under today's config, and why the rest still fail. */
export interface ReplayReport {
  topic: string;
  /** Dead letters read (each stored offset once). */
  read: number;
  /** Decode under today's config. */
  nowDecode: number;
  /** Of those, put back on the topic (0 on a dry run). */
  replayed: number;
  /** Still fail, by today's reason. */
  stillFailing: Record<string, number>;
  /** True when `limit` letters were read and more may be left. */
  truncated: boolean;
}

export interface ReplayProgress {
  read: number;
  nowDecode: number;
  failing: number;
}

export interface DlqReplayOptions {
  store: Pick<ControlStore, 'deadLettersToReplay'>;
  /** The sources as configured now: today's decoder of the topic decides. */
  sources: readonly SourceConfig[];
  contract: Omit<EventContract, 'source'>;
  publish: (messages: readonly Republished[]) => Promise<void>;
  now?: () => number;
}

export interface ReplayQuery {
  topic: string;
  /** Dead letters stored at or after this wall-clock time (ms). */
  since: number;
  /** At most this many letters. */
  limit: number;
  /** Messages put back per produce call. */
  batchSize?: number;
  /** Only decide and count; put nothing back. */
  dryRun?: boolean;
}

/** Why a topic cannot be replayed, or undefined when it can. */
export function unreplayable(topic: string, sources: readonly SourceConfig[]): string | undefined {
  const source = sources.find((s) => s.topic === topic);
  if (!source) return `no source reads topic "${topic}" in today's config (known: ${sources.map((s) => s.topic).join(', ')})`;
  if (source.transport === 'http') return `"${topic}" is an HTTP source: its dead letters cannot be put back on a Kafka topic (replay is for Kafka sources)`;
  return undefined;
}

/** Decides one letter with today's decoder and contract. Pure: the clock is an input. */
export function decideLetter(letter: StoredDeadLetter, decode: (m: RawMessage) => ReturnType<ReturnType<typeof decoderFor>>, contract: EventContract, now: number) {
  const message: RawMessage = {
    value: letter.raw,
    headers: letter.headers,
    key: letter.key,
    // The broker's timestamp is not kept with a dead letter; when it was dead-lettered is the nearest.
    timestamp: letter.at,
    origin: { topic: letter.topic, partition: letter.partition, offset: letter.offset },
  };
  return checkContract(decode(message), contract, now);
}

/**
 * Re-feeds dead letters of one Kafka topic through today's config: each letter is decoded as
 * the pipeline would decode it now; those that decode are put back on their topic and partition
 * unchanged (key, value, headers), for the consumer group to read like any message, and those
 * that still fail are only counted. Replaying the same letters twice changes nothing: the
 * events carry their idempotency key (source, id), the stitcher drops a redelivery and the
 * stored rows replace.
 */
export async function replayDeadLetters(options: DlqReplayOptions, query: ReplayQuery, progress?: (p: ReplayProgress) => void): Promise<ReplayReport> {
  const problem = unreplayable(query.topic, options.sources);
  if (problem) throw new ReplayRefused(problem);
  const source = options.sources.find((s) => s.topic === query.topic)!;
  const decode = decoderFor(source);
  const contract = { ...options.contract, source: source.name };
  const now = options.now ?? Date.now;
  const letters = await options.store.deadLettersToReplay({ topic: query.topic, since: query.since, limit: query.limit });
  const batchSize = query.batchSize ?? 500;
  const stillFailing: Record<string, number> = {};
  let nowDecode = 0;
  let replayed = 0;
  let read = 0;
  for (let i = 0; i < letters.length; i += batchSize) {
    const batch: Republished[] = [];
    for (const letter of letters.slice(i, i + batchSize)) {
      read++;
      const result = decideLetter(letter, decode, contract, now());
      if (!result.ok) {
        stillFailing[result.reason] = (stillFailing[result.reason] ?? 0) + 1;
        continue;
      }
      batch.push({ topic: letter.topic, partition: letter.partition, key: letter.key, value: letter.raw, headers: letter.headers });
    }
    nowDecode += batch.length;
    if (!query.dryRun) {
      await options.publish(batch);
      replayed += batch.length;
    }
    progress?.({ read, nowDecode, failing: read - nowDecode });
  }
  return { topic: query.topic, read, nowDecode, replayed, stillFailing, truncated: letters.length >= query.limit };
}

/** A replay that cannot be done as asked (unknown topic, an HTTP source): a 400, not a failure. */
export class ReplayRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayRefused';
  }
}
