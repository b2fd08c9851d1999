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
    /**
     * While partitions are read from a backlog, how far ahead in event time one may be read of
     * the furthest-behind one (see alignment.ts): steps read hours before their triggers would
     * otherwise fill pipeline.maxHeldSteps and be let go. While the held steps fill half of that
     * cap (a high event rate), a second of skew at most is allowed until they are under a quarter
     * (aligned-feed.ts).
     */
    maxEventTimeSkew: durationSchema().default(30_000),
    /** Bytes fetched per partition and request (at least one whole record batch comes): larger fetches cost less a message. */
    maxBytesPerPartition: z.number().int().min(1_024).default(4 * 1024 * 1024),
    /**
     * Without it, a missing source topic is waited for, never created (the broker's default
     * partition count would diverge from the producers'). With it, missing source and
     * dead-letter topics are created with this many partitions.
     */
    createTopics: z
      .object({
        partitions: z.number({ error: 'must be a whole number of partitions' }).int('must be a whole number of partitions').positive('must be at least 1'),
        replicationFactor: z.number({ error: 'must be a whole number' }).int('must be a whole number').positive('must be at least 1').optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type KafkaConfig = z.output<typeof kafkaSchema>;
