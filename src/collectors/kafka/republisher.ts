// Before any kafkajs client: no 1 ms re-check loop on idle connections.
import './request-queue-fix.ts';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import type { KafkaConfig } from './config.ts';

/** A message put back on its topic, in the partition it was first read from. */
export interface Republished {
  topic: string;
  partition: number;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * Puts messages back on their source topics (a dead-letter replay): same partition, key, value
 * and headers as they first arrived, so the consumer group reads them as it read the originals
 * and the instance that owns the partition stitches them. Connects on first use.
 */
export class KafkaRepublisher {
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;

  constructor(kafka: Pick<KafkaConfig, 'brokers' | 'clientId'>) {
    this.producer = new Kafka({ clientId: `${kafka.clientId}-replay`, brokers: kafka.brokers, logLevel: logLevel.NOTHING, retry: { retries: 5 } }).producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async send(messages: readonly Republished[]): Promise<void> {
    if (messages.length === 0) return;
    this.connected ??= this.producer.connect();
    await this.connected;
    const byTopic = new Map<string, Republished[]>();
    for (const m of messages) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), m]);
    await this.producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, list]) => ({
        topic,
        messages: list.map((m) => ({ partition: m.partition, key: m.key, value: m.value, headers: m.headers })),
      })),
    });
  }

  async shutdown(): Promise<void> {
    if (this.connected) await this.producer.disconnect();
  }
}
