import type { Message, Producer } from 'kafkajs';
import type { DeadLetter, DeadLetterSink } from '../../domain/dead-letter.ts';

/**
 * Bytes of messages per produce request. The broker refuses a request whose record batch is
 * past its max.message.bytes (1 MB by default) — and retrying it changes nothing, so the
 * pipeline would hold its commits forever. A few 100 kB poison messages in one flush reach that.
 */
export const MAX_REQUEST_BYTES = 512 * 1024;

function sizeOf(message: Message): number {
  let n = (message.value?.length ?? 0) + (message.key?.length ?? 0) + 64;
  for (const [name, value] of Object.entries(message.headers ?? {})) n += name.length + String(value ?? '').length + 8;
  return n;
}

/** Splits messages into runs of at most `maxBytes` each (a message larger than that goes alone). */
export function chunkBySize<T extends Message>(messages: readonly T[], maxBytes = MAX_REQUEST_BYTES): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = sizeOf(message);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Writes dead letters to `<topic>.dlq` (or the configured topic): the original key, value and
 * headers untouched, plus headers that say why and where from, so the message can be replayed.
 */
export class KafkaDeadLetterSink implements DeadLetterSink {
  private readonly producer: Producer;
  private readonly topicFor: (origin: string) => string;

  constructor(producer: Producer, topicFor: (originTopic: string) => string) {
    this.producer = producer;
    this.topicFor = topicFor;
  }

  async send(letters: readonly DeadLetter[]): Promise<void> {
    const byTopic = new Map<string, DeadLetter[]>();
    for (const letter of letters) {
      const topic = this.topicFor(letter.origin.topic);
      const list = byTopic.get(topic);
      if (list) list.push(letter);
      else byTopic.set(topic, [letter]);
    }
    for (const [topic, list] of byTopic) {
      const messages = list.map((letter) => ({
        key: letter.key,
        value: letter.raw,
        headers: {
          ...letter.headers,
          'seamwatch-dlq-reason': letter.reason,
          'seamwatch-dlq-detail': letter.detail,
          'seamwatch-dlq-topic': letter.origin.topic,
          'seamwatch-dlq-partition': String(letter.origin.partition),
          'seamwatch-dlq-offset': letter.origin.offset,
          'seamwatch-dlq-at': new Date(letter.at).toISOString(),
        },
      }));
      for (const chunk of chunkBySize(messages)) await this.producer.send({ acks: -1, topic, messages: chunk });
    }
  }
}
