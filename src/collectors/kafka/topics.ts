import type { Admin } from 'kafkajs';
import type { Logger } from 'pino';

/**
 * Source topics belong to their producers: created with the broker's default partition count
 * they would silently diverge from what producers (and co-partitioning) expect. So seamwatch
 * creates a missing source topic only when `kafka.createTopics.partitions` says how many
 * partitions it must have; otherwise it waits for the topic, says so in the log and in /readyz,
 * and consumes once it exists. Dead-letter topics are seamwatch's own: a missing one is created
 * with the configured count, or with its source topic's.
 */
export interface TopicCreation {
  partitions: number;
  replicationFactor?: number | undefined;
}

export interface TopicPlan {
  topic: string;
  deadLetterTopic: string;
}

export const MISSING_TOPICS_HINT =
  'seamwatch does not create source topics with the broker default partition count: create them with the partition count their producers use, or set kafka.createTopics.partitions';

/**
 * Partition counts of the topics that exist, by name. A topic created a moment ago may be
 * listed before every broker knows it: such an answer is asked again, a few times.
 */
async function partitionCounts(admin: Admin, topics: readonly string[]): Promise<Map<string, number>> {
  for (let attempt = 1; ; attempt++) {
    try {
      const existing = new Set(await admin.listTopics());
      const present = topics.filter((t) => existing.has(t));
      if (present.length === 0) return new Map();
      const metadata = await admin.fetchTopicMetadata({ topics: present });
      return new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
    } catch (error) {
      if (attempt >= 10) throw error;
      await new Promise((r) => setTimeout(r, 300 * attempt));
    }
  }
}

/**
 * Creates topics and waits for their leaders. Right after a creation the broker may still answer
 * a metadata request with "does not host this topic-partition": then it is asked again until the
 * topics are listed with their partitions.
 */
async function createTopics(admin: Admin, topics: { topic: string; numPartitions: number; replicationFactor?: number }[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.createTopics({ topics, waitForLeaders: true });
      return;
    } catch (error) {
      const present = await partitionCounts(admin, topics.map((t) => t.topic));
      if (topics.every((t) => present.has(t.topic))) return;
      if (attempt >= 5) throw error;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

export interface EnsureTopicsOptions {
  admin: Admin;
  plans: readonly TopicPlan[];
  create: TopicCreation | undefined;
  logger: Logger;
  /** Told which source topics are missing while it waits (empty once none is). */
  onMissing: (topics: readonly string[]) => void;
  /** True once a stop was asked for: the wait ends (returns false). */
  stopped: () => boolean;
  pollMs?: number;
}

/**
 * Once every source topic exists and dead-letter topics were created, returns the source topics'
 * partition counts; undefined if stopped while waiting.
 */
export async function ensureTopics(options: EnsureTopicsOptions): Promise<Map<string, number> | undefined> {
  const { admin, plans, create, logger } = options;
  const sources = [...new Set(plans.map((p) => p.topic))];
  let counts = await partitionCounts(admin, sources);
  let missing = sources.filter((t) => !counts.has(t));
  if (missing.length > 0 && create) {
    await createTopics(admin, missing.map((topic) => ({ topic, numPartitions: create.partitions, ...(create.replicationFactor ? { replicationFactor: create.replicationFactor } : {}) })));
    logger.info({ topics: missing, partitions: create.partitions }, 'created missing source topics (kafka.createTopics)');
    counts = await partitionCounts(admin, sources);
    missing = sources.filter((t) => !counts.has(t));
  }
  let lastLog = 0;
  while (missing.length > 0) {
    options.onMissing(missing);
    if (Date.now() - lastLog >= 60_000) {
      logger.error({ topics: missing, hint: MISSING_TOPICS_HINT }, 'source topics missing: waiting for them');
      lastLog = Date.now();
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 2_000));
    if (options.stopped()) return undefined;
    counts = await partitionCounts(admin, sources);
    missing = sources.filter((t) => !counts.has(t));
  }
  options.onMissing([]);
  if (lastLog > 0) logger.info({ topics: sources }, 'source topics exist now');

  const deadLetter = [...new Map(plans.map((p) => [p.deadLetterTopic, p.topic])).entries()];
  const dlqCounts = await partitionCounts(admin, deadLetter.map(([dlq]) => dlq));
  const toCreate = deadLetter.filter(([dlq]) => !dlqCounts.has(dlq));
  if (toCreate.length > 0) {
    await createTopics(admin, toCreate.map(([dlq, source]) => ({ topic: dlq, numPartitions: create?.partitions ?? counts.get(source)!, ...(create?.replicationFactor ? { replicationFactor: create.replicationFactor } : {}) })));
    logger.info({ topics: toCreate.map(([dlq]) => dlq) }, 'created missing dead-letter topics');
  }
  return counts;
}
