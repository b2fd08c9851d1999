import type { Producer } from 'kafkajs';
import type { DeadLetter, DeadLetterSink } from '../../domain/dead-letter.ts';

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
    await this.producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, list]) => ({
        topic,
        messages: list.map((letter) => ({
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
        })),
      })),
    });
  }
}
