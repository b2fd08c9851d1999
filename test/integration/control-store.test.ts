import { beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import type { EventRecord } from '../../src/domain/records.ts';
import { ENGINES, ENGINE_NAMES } from '../support/services.ts';
import { storeSuite } from '../support/suite.ts';

const T0 = Date.parse('2026-11-25T12:00:00.000Z');
const M = 60_000;

const event = (correlationId: string, id: string, time: number): EventRecord => ({
  source: 'crm',
  id,
  type: 'subscription.upgraded',
  time,
  correlationId,
  subject: '',
  data: '{}',
  error: {},
  origin: { topic: 'crm.events', partition: 0, offset: id.replace(/\D/g, '') || '0' },
  receivedAt: time,
});

// The controls' SQL (migration 7 and its reads) on both engines, with hostile strings.
describe.each(ENGINES.map((e) => [ENGINE_NAMES[e], e] as const))('the controls\' rows on %s', (_name, engine) => {
  const stored = storeSuite('ctl', engine);
  const { database } = stored;
  let ch: ClickHouseStore;
  beforeAll(() => {
    ch = stored.ch;
  });

  it('keeps the newest row per paused scope, resumes included', async () => {
    const hostile = "it's \\ a 'team'\n";
    await ch.writePagingPause({ scope: 'team', name: hostile, paused: true, until: T0 + M, reason: 'INC-1', actor: 'ana', at: T0 });
    await ch.writePagingPause({ scope: 'workflow', name: 'plan-upgrade', paused: true, until: 0, reason: 'noise', actor: 'bob', at: T0 });
    await ch.writePagingPause({ scope: 'team', name: hostile, paused: false, until: 0, reason: 'INC-1', actor: 'cy', at: T0 + 1 });
    const pauses = (await ch.pagingPauses()).sort((a, b) => a.scope.localeCompare(b.scope));
    expect(pauses).toEqual([
      { scope: 'team', name: hostile, paused: false, until: 0, reason: 'INC-1', actor: 'cy', at: T0 + 1 },
      { scope: 'workflow', name: 'plan-upgrade', paused: true, until: 0, reason: 'noise', actor: 'bob', at: T0 },
    ]);
  });

  it('reads audit rows newest first, each id at its latest outcome, from a time on', async () => {
    await ch.writeAudit({ id: 'a1', at: T0, actor: 'ana', action: 'backfill', args: '{"from":"x"}', outcome: 'started', detail: '' });
    await ch.writeAudit({ id: 'a1', at: T0 + 5, actor: 'ana', action: 'backfill', args: '{"from":"x"}', outcome: 'ok', detail: '{"runs":5}' });
    await ch.writeAudit({ id: 'a2', at: T0 + 10, actor: 'bob', action: 'pause', args: '{}', outcome: 'ok', detail: '' });
    await ch.writeAudit({ id: 'a0', at: T0 - M, actor: 'old', action: 'pause', args: '{}', outcome: 'ok', detail: '' });
    expect((await ch.audit({ since: T0, limit: 10 })).map((r) => `${r.id} ${r.outcome} ${r.detail}`)).toEqual(['a2 ok ', 'a1 ok {"runs":5}']);
    expect(await ch.audit({ since: 0, limit: 1 })).toHaveLength(1);
  });

  it('reads dead letters of a topic since a time, each offset once, with key, headers and raw bytes', async () => {
    const letter = (offset: string, at: number, raw: Buffer | null) => ({ reason: 'mapping-failed' as const, detail: 'd', origin: { topic: 'billing.events', partition: 1, offset }, raw, headers: { 'content-type': 'application/json', 'x-q': "it's" }, key: offset === '7' ? null : `k${offset}`, at });
    const batch = { events: [], runs: [], spans: [], sloOutcomes: [] };
    await ch.write({ ...batch, deadLetters: [letter('5', T0, Buffer.from([0, 255, 10])), letter('7', T0 + 1, null), letter('3', T0 - M, Buffer.from('old'))] });
    await ch.write({ ...batch, deadLetters: [letter('5', T0, Buffer.from([0, 255, 10]))] });
    const letters = await ch.deadLettersToReplay({ topic: 'billing.events', since: T0, limit: 10 });
    expect(letters).toEqual([
      { topic: 'billing.events', partition: 1, offset: '5', at: T0, reason: 'mapping-failed', key: 'k5', headers: { 'content-type': 'application/json', 'x-q': "it's" }, raw: Buffer.from([0, 255, 10]) },
      { topic: 'billing.events', partition: 1, offset: '7', at: T0 + 1, reason: 'mapping-failed', key: null, headers: { 'content-type': 'application/json', 'x-q': "it's" }, raw: null },
    ]);
  });

  it('reads every stored event of the runs touching a range, each once, oldest first', async () => {
    const batch = { runs: [], spans: [], sloOutcomes: [], deadLetters: [] };
    await ch.write({ ...batch, events: [event('c-1', 'e1', T0 - 10 * M), event('c-1', 'e2', T0 + M), event('c-2', 'e3', T0 + 2 * M), event('c-3', 'e4', T0 + 30 * M)] });
    await ch.write({ ...batch, events: [event('c-1', 'e2', T0 + M)] });
    const events = await ch.eventsTouching({ from: T0, to: T0 + 10 * M, limit: 100 });
    expect(events.map((e) => `${e.correlationId} ${e.id}`)).toEqual(['c-1 e1', 'c-1 e2', 'c-2 e3']);
    expect(await ch.eventsTouching({ from: T0, to: T0 + 10 * M, limit: 2 })).toHaveLength(2);
  });
});
