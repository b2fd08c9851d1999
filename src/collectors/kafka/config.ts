import { z } from 'zod';
import { durationSchema } from '../../domain/duration.ts';

/** The `kafka:` section: where the source topics are and the consumer group that reads them. */
export const kafkaSchema = z
  .object({
    brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port')).min(1),
    clientId: z.string().default('seamwatch'),
    groupId: z.string().min(1).default('seamwatch'),
    fromBeginning: z.boolean().default(true),
    sessionTimeout: durationSchema().default(30_000),
  })
  .strict();

export type KafkaConfig = z.output<typeof kafkaSchema>;
