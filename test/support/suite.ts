import { afterAll, beforeAll } from 'vitest';
import type { Admin, Producer } from 'kafkajs';
import { kafka, requireServices } from './services.ts';

/** A Kafka admin and producer for one suite, and what to undo after it. */
export interface KafkaSuite {
  readonly admin: Admin;
  readonly producer: Producer;
  /** Run after the suite, last added first, each whatever the others did. */
  readonly cleanups: (() => Promise<unknown>)[];
}

/**
 * Registers the hooks every integration suite on the real services needs: fail loudly when a
 * service is missing, connect an admin and a producer, and afterwards run the cleanups and
 * disconnect. Call it at the top of a describe block.
 */
export function kafkaSuite(extra: { start?: () => Promise<void>; stop?: () => Promise<void> } = {}): KafkaSuite {
  let admin: Admin | undefined;
  let producer: Producer | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    await requireServices();
    await extra.start?.();
    admin = kafka().admin();
    await admin.connect();
    producer = kafka().producer();
    await producer.connect();
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await producer?.disconnect();
    await admin?.disconnect();
    await extra.stop?.();
  });
  return {
    get admin() {
      return admin!;
    },
    get producer() {
      return producer!;
    },
    cleanups,
  };
}
