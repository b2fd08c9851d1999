import { describe, expect, it } from 'vitest';
import type { DeadLetterReason } from '../../src/domain/dead-letter.ts';
import type { Intake, PartitionPosition, ProcessResult } from '../../src/collectors/intake.ts';
import type { RawMessage } from '../../src/collectors/decode/message.ts';
import { sourceSchema } from '../../src/collectors/config.ts';
import { httpIntakeSchema } from '../../src/collectors/http/config.ts';
import { HttpCollector } from '../../src/collectors/http/http-collector.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

/** An in-memory intake: takes an event when its body says "good", refuses it otherwise. */
class RecordingIntake implements Intake {
  processed: RawMessage[] = [];
  refused: { message: RawMessage; reason: DeadLetterReason }[] = [];
  retained: Record<string, readonly number[]>[] = [];
  recovered: PartitionPosition[][] = [];
  flushes = 0;
  busy = false;
  flushGate: Promise<void> = Promise.resolve();
  process(message: RawMessage): ProcessResult {
    this.processed.push(message);
    return message.value?.toString().includes('good') ? { ok: true } : { ok: false, reason: 'missing-field', detail: 'no "correlationid" attribute' };
  }
  refuse(message: RawMessage, reason: DeadLetterReason): void {
    this.refused.push({ message, reason });
  }
  partitionBacklog(): void {}
  partitionsPaused(): void {}
  heldStepsShare(): number {
    return 0;
  }
  partitionEventTime(): number {
    return Number.NEGATIVE_INFINITY;
  }
  async recover(positions: readonly PartitionPosition[]): Promise<void> {
    this.recovered.push([...positions]);
  }
  retainPartitions(assignment: Readonly<Record<string, readonly number[]>>): number {
    this.retained.push(assignment);
    return 0;
  }
  tick(): void {}
  flushDue(): boolean {
    return false;
  }
  overloaded(): boolean {
    return this.busy;
  }
  flush(): Promise<void> {
    this.flushes += 1;
    return this.flushGate;
  }
  bufferedRows = 0;
  abortRetries(): void {}
  updateGauges(): void {}
}

async function started(intake: RecordingIntake, intakeConfig = {}) {
  const collector = new HttpCollector({
    intakeConfig: httpIntakeSchema.parse({ port: 0, partition: 7, ...intakeConfig }),
    sources: [sourceSchema.parse({ name: 'crm', transport: 'http' })],
    intake,
    logger: silentLogger(),
    now: () => 1_800_000_000_000,
    finalFlushDeadline: 100,
  });
  await collector.start();
  const post = (body: string, type = 'application/cloudevents+json') =>
    fetch(`http://127.0.0.1:${collector.port}/ingest/crm`, { method: 'POST', headers: { 'content-type': type }, body });
  return { collector, post };
}

describe('HttpCollector', () => {
  it('owns its HTTP partition from the start: retained and rebuilt before it listens, with nothing to read again', async () => {
    const intake = new RecordingIntake();
    const { collector } = await started(intake);
    expect(intake.retained).toEqual([{ 'http:crm': [7] }]);
    const next = String(1_800_000_000_000 * 1000);
    expect(intake.recovered).toEqual([[{ topic: 'http:crm', partition: 7, committed: next, low: next, high: next }]]);
    await collector.shutdown();
  });

  it('gives every delivery an origin on http:<source>, its partition, and offsets that increase', async () => {
    const intake = new RecordingIntake();
    const { collector, post } = await started(intake);
    await post('[{"good":1},{"good":2}]', 'application/cloudevents-batch+json');
    await post('{"good":3}');
    const offsets = intake.processed.map((m) => BigInt(m.origin.offset));
    expect(intake.processed.map((m) => [m.origin.topic, m.origin.partition])).toEqual([['http:crm', 7], ['http:crm', 7], ['http:crm', 7]]);
    expect(offsets[0]! < offsets[1]! && offsets[1]! < offsets[2]!).toBe(true);
    await collector.shutdown();
  });

  it('answers 202 only once the flush that stores the events has finished', async () => {
    const intake = new RecordingIntake();
    let release!: () => void;
    intake.flushGate = new Promise((resolve) => (release = resolve));
    const { collector, post } = await started(intake);
    let answered = false;
    const response = post('{"good":1}').then((r) => ((answered = true), r));
    // Wait for the flush to begin (however slow the machine), then check no answer went out before it ended.
    await expect.poll(() => intake.flushes, { timeout: 10_000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(answered).toBe(false);
    release();
    expect([(await response).status, await (await response).json()]).toEqual([202, { accepted: 1 }]);
    await collector.shutdown();
  });

  it('answers 503 with Retry-After when the store does not acknowledge within ackTimeout', async () => {
    const intake = new RecordingIntake();
    intake.flushGate = new Promise(() => undefined);
    const { collector, post } = await started(intake, { ackTimeout: 50, retryAfter: 7_000, });
    const res = await post('{"good":1}');
    expect([res.status, res.headers.get('retry-after'), ((await res.json()) as { error: string }).error]).toEqual([503, '7', 'store-unavailable']);
    await collector.shutdown();
  });

  it('answers 429 with Retry-After and takes nothing while the pipeline is overloaded', async () => {
    const intake = new RecordingIntake();
    intake.busy = true;
    const { collector, post } = await started(intake);
    const res = await post('{"good":1}');
    expect([res.status, res.headers.get('retry-after')]).toEqual([429, '5']);
    expect(intake.processed).toEqual([]);
    await collector.shutdown();
  });

  it('a batch with refused events is answered 400 listing them, after the others were stored', async () => {
    const intake = new RecordingIntake();
    const { collector, post } = await started(intake);
    const res = await post('[{"good":1},{"bad":2},{"good":3}]', 'application/cloudevents-batch+json');
    expect([res.status, await res.json()]).toEqual([
      400,
      { error: 'events-refused', detail: '1 of 3 events were refused; the others were stored', accepted: 2, refused: [{ index: 1, error: 'missing-field', detail: 'no "correlationid" attribute' }] },
    ]);
    expect(intake.flushes).toBe(1);
    await collector.shutdown();
  });

  it('a body that is no CloudEvent is refused 400 and handed over as a dead letter, with no flush awaited', async () => {
    const intake = new RecordingIntake();
    const { collector, post } = await started(intake);
    const res = await post('{"good":1}', 'text/plain');
    expect(res.status).toBe(400);
    expect(intake.refused.map((r) => [r.reason, r.message.value?.toString(), r.message.origin.topic])).toEqual([['not-cloudevent', '{"good":1}', 'http:crm']]);
    expect(intake.flushes).toBe(0);
    await collector.shutdown();
  });

  it('keeps no credentials of the request with a dead letter', async () => {
    const intake = new RecordingIntake();
    const { collector } = await started(intake);
    await fetch(`http://127.0.0.1:${collector.port}/ingest/crm`, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: 'Bearer s3cret', cookie: 'session=1', 'x-request-id': 'r1' }, body: 'x' });
    const headers = intake.refused[0]!.message.headers;
    expect([headers['authorization'], headers['cookie'], headers['x-request-id']]).toEqual([undefined, undefined, 'r1']);
    await collector.shutdown();
  });

  it('shutdown is safe before start and twice, and a stopped intake refuses connections', async () => {
    const intake = new RecordingIntake();
    const idle = new HttpCollector({ intakeConfig: httpIntakeSchema.parse({ port: 0 }), sources: [], intake, logger: silentLogger() });
    await idle.shutdown();
    await idle.shutdown();
    expect(idle.lifecycle).toBe('stopped');
    const { collector, post } = await started(intake);
    await Promise.all([collector.shutdown(), collector.shutdown()]);
    await expect(post('{"good":1}')).rejects.toThrow();
  });
});
