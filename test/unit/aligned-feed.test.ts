import { describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { pino } from 'pino';
import { AlignedFeed, type FeedHost } from '../../src/collectors/kafka/aligned-feed.ts';
import type { Intake } from '../../src/collectors/intake.ts';
import type { RawMessage } from '../../src/collectors/decode/index.ts';

const S = 1_000;

/** Messages whose value is their event time in ms, at offsets from `from`. */
function messages(from: number, times: number[]): KafkaMessage[] {
  return times.map((t, i) => ({ offset: String(from + i), value: Buffer.from(String(t)), key: null, timestamp: '0', attributes: 0, headers: {} }) as KafkaMessage);
}

const seconds = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => (from + i) * S);

/** An intake that reads a message's value as its event time, and records what the feed tells it. */
function recordingHost(skewSeconds = 30) {
  const held = { share: 0 };
  const time = new Map<string, number>();
  const processed: string[] = [];
  const gauge: number[] = [];
  const pauses: string[] = [];
  const resumes: string[] = [];
  const intake = {
    process(message: RawMessage) {
      const key = `${message.origin!.topic}/${message.origin!.partition}`;
      time.set(key, Math.max(time.get(key) ?? Number.NEGATIVE_INFINITY, Number(message.value!.toString())));
      processed.push(`${key}@${message.origin!.offset}`);
      return { ok: true };
    },
    partitionEventTime: (topic: string, partition: number) => time.get(`${topic}/${partition}`) ?? Number.NEGATIVE_INFINITY,
    partitionBacklog() {},
    partitionsPaused: (count: number) => gauge.push(count),
    overloaded: () => false,
    heldStepsShare: () => held.share,
  } as unknown as Intake;
  const list = (ps: { topic: string; partitions: number[] }[]) => ps.flatMap((p) => p.partitions.map((n) => `${p.topic}/${n}`));
  const host: FeedHost = {
    intake,
    logger: pino({ level: 'silent' }),
    maxEventTimeSkew: skewSeconds * S,
    now: () => 0,
    pause: (ps) => pauses.push(...list(ps)),
    resume: (ps) => resumes.push(...list(ps)),
    stopRequested: () => false,
    flushIfDue() {},
  };
  return { host, held, processed, gauge, pauses, resumes };
}

describe('AlignedFeed: batches cut at the alignment limit, parked, and fed once the partition may go on', () => {
  function twoPartitionsWithBacklog() {
    const h = recordingHost();
    const feed = new AlignedFeed(h.host);
    feed.recovered([
      { topic: 'crm', partition: 0, committed: '-1', low: '0', high: '1000' },
      { topic: 'billing', partition: 0, committed: '-1', low: '0', high: '1000' },
    ]);
    // The triggers' partition has read up to 9 s; the steps' batch goes to 199 s.
    feed.batch('crm', 0, messages(0, seconds(0, 9)), '1000');
    const fed = feed.batch('billing', 0, messages(0, seconds(0, 199)), '1000');
    return { ...h, feed, fed };
  }

  it('cuts a batch that runs past the skew, parks the rest, pauses the partition and says so in the gauge', () => {
    const { fed, pauses, resumes, gauge, processed } = twoPartitionsWithBacklog();
    // Looked at every 64 messages: the first look (63 s) is past the limit (9 s + 30 s).
    expect(fed).toEqual({ fed: 64, parked: true });
    expect(processed.filter((p) => p.startsWith('billing'))).toHaveLength(64);
    // The triggers' partition waited for the steps' first event, and went on once it came.
    expect(pauses).toEqual(['crm/0', 'billing/0']);
    expect(resumes).toEqual(['crm/0']);
    expect(gauge.at(-1)).toBe(1);
  });

  it('feeds the parked rest once the others catch up, resumes the partition and the gauge goes back to 0', () => {
    const { feed, pauses, resumes, gauge, processed } = twoPartitionsWithBacklog();
    // Up to 210 s: within the skew of the steps' last (199 s), so neither is held after.
    feed.batch('crm', 0, messages(10, seconds(10, 210)), '1000');
    expect(processed.filter((p) => p.startsWith('billing'))).toEqual(seconds(0, 199).map((_, i) => `billing/0@${i}`));
    // The two leapfrog by half the skew while the parked rest is fed: both end resumed.
    expect(resumes).toContain('billing/0');
    expect(resumes.filter((p) => p === 'crm/0')).toHaveLength(pauses.filter((p) => p === 'crm/0').length);
    expect(gauge.at(-1)).toBe(0);
  });

  it('a new assignment drops what was parked (Kafka reads it again from the commits), resumes and counts none paused', () => {
    const { feed, resumes, gauge, processed } = twoPartitionsWithBacklog();
    feed.assigned();
    expect(resumes).toEqual(['crm/0', 'billing/0']);
    expect(gauge.at(-1)).toBe(0);
    // Nothing parked is fed after the assignment, however far the others go.
    feed.batch('crm', 0, messages(10, seconds(10, 300)), '1000');
    expect(processed.filter((p) => p.startsWith('billing'))).toHaveLength(64);
  });

  it('allows a second of skew at most while the steps held for their triggers fill half of maxHeldSteps, and the configured skew again below a quarter', () => {
    const run = (share: number) => {
      const h = recordingHost(100);
      h.held.share = share;
      const feed = new AlignedFeed(h.host);
      feed.recovered([
        { topic: 'crm', partition: 0, committed: '-1', low: '0', high: '1000' },
        { topic: 'billing', partition: 0, committed: '-1', low: '0', high: '1000' },
      ]);
      feed.batch('crm', 0, messages(0, seconds(0, 9)), '1000');
      return { ...h, feed, fed: feed.batch('billing', 0, messages(0, seconds(0, 199)), '1000').fed };
    };
    // With a 100 s skew the steps may run to 109 s: cut at the second look (127 s).
    expect(run(0.4).fed).toBe(128);
    // Pressed, no further than a second past the triggers (10 s): cut at the first look (63 s).
    const pressed = run(0.5);
    expect(pressed.fed).toBe(64);
    // Still pressed at a third: the skew comes back only below a quarter.
    pressed.held.share = 0.3;
    pressed.feed.batch('crm', 0, messages(10, seconds(10, 20)), '1000');
    expect(pressed.processed.filter((p) => p.startsWith('billing'))).toHaveLength(64);
    pressed.held.share = 0.2;
    pressed.feed.tick();
    // Loosened, the parked rest is fed up to the skew past the triggers (20 s + 100 s).
    expect(pressed.processed.filter((p) => p.startsWith('billing')).length).toBeGreaterThan(64 + 32);
  });
});
