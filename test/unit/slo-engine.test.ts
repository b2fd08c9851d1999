import { describe, expect, it } from 'vitest';
import { DAY, HOUR, MINUTE, SUCCESS_SLO } from '../support/slo-fixtures.ts';
import { Registry } from 'prom-client';
import { SloEngine } from '../../src/slo/engine.ts';
import { SloMetrics } from '../../src/slo/metrics.ts';
import type { MinuteCounts, SloAlertSignal, SloAlertSink } from '../../src/slo/types.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { MemorySloStore } from '../support/memory-slo-store.ts';

const T0 = Date.parse('2026-03-02T00:00:00Z');
const M0 = T0 / MINUTE;
const END = T0 + 6 * HOUR;

const SLO = SUCCESS_SLO;

/** Ten runs a minute from three days before T0 to END; half of them bad from T0 + 1h for 30 minutes. */
function history(): MinuteCounts[] {
  const out: MinuteCounts[] = [];
  for (let m = M0 - 3 * 24 * 60; m < END / MINUTE; m++) {
    const bad = m >= M0 + 60 && m < M0 + 90 ? 5 : 0;
    out.push({ minute: m, good: 10 - bad, total: 10 });
  }
  return out;
}

class RecordingSink implements SloAlertSink {
  readonly signals: SloAlertSignal[] = [];
  signal(signal: SloAlertSignal): void {
    this.signals.push(signal);
  }
}

const summary = (signals: SloAlertSignal[]) => signals.map((s) => [s.kind, s.tier, new Date(s.at).toISOString()]);

function engine(store: MemorySloStore, sink: SloAlertSink, eventTime: () => number, extra: { maxCatchUpMs?: number; stateKey?: string; allowedLateness?: number; leading?: boolean } = {}): SloEngine {
  return new SloEngine({ slos: [SLO], store: store.asStore(), eventTime, sink, metrics: new SloMetrics(new Registry()), logger: silentLogger(), evaluateEvery: 60_000, ...extra });
}

/** Cycles until the engine stops moving (a catch-up spreads over several cycles). */
async function settle(e: SloEngine): Promise<number> {
  let cycles = 0;
  let last: number | undefined;
  do {
    last = e.status()[0]?.at;
    await e.cycle();
    cycles++;
  } while (e.status()[0]?.at !== last && cycles < 10_000);
  return cycles;
}

/** The signals of an engine that ran all along, one cycle per minute of event time from T0. */
async function liveSignals(): Promise<SloAlertSignal[]> {
  const store = new MemorySloStore();
  store.minutes.set(SLO.name, history());
  const sink = new RecordingSink();
  let now = T0;
  const live = engine(store, sink, () => now);
  for (; now <= END; now += MINUTE) await live.cycle();
  return sink.signals;
}

describe('SLO engine: catching up', () => {
  it('raises, from the store alone, the same burn signals a live engine raised minute by minute', async () => {
    const live = await liveSignals();
    expect(summary(live)).toEqual([
      ['firing', 'page-1h', expect.any(String)],
      ['resolved', 'page-1h', expect.any(String)],
    ]);
    const store = new MemorySloStore();
    store.minutes.set(SLO.name, history());
    const sink = new RecordingSink();
    const fresh = engine(store, sink, () => END);
    await settle(fresh);
    expect(sink.signals).toEqual(live);
    expect(fresh.status()[0]!.at).toBe(END);
  });

  it('spreads a long catch-up over cycles, at most maxCatchUp each, and loses no alert', async () => {
    const live = await liveSignals();
    const store = new MemorySloStore();
    store.minutes.set(SLO.name, history());
    const sink = new RecordingSink();
    const fresh = engine(store, sink, () => END, { maxCatchUpMs: HOUR });
    await fresh.cycle();
    // Three days back from END (the longest tier window), one hour in the first cycle.
    expect(fresh.status()[0]!.at).toBe(END - 3 * DAY + HOUR);
    const cycles = await settle(fresh);
    expect(cycles).toBeGreaterThanOrEqual(3 * 24 - 1);
    expect(sink.signals).toEqual(live);
  });
});

describe('SLO engine: restarts', () => {
  const KEY = 'slo:group';

  it('resolves after a restart a tier that was firing before it, and raises nothing twice', async () => {
    const store = new MemorySloStore();
    store.minutes.set(SLO.name, history());
    const before = new RecordingSink();
    let now = T0;
    const first = engine(store, before, () => now, { stateKey: KEY });
    for (; now <= T0 + 85 * MINUTE; now += MINUTE) await first.cycle();
    await first.shutdown();
    expect(summary(before.signals)).toEqual([['firing', 'page-1h', expect.any(String)]]);

    // The burn ends while it is down; the next instance starts with the watermark far ahead.
    const after = new RecordingSink();
    const second = engine(store, after, () => END, { stateKey: KEY });
    await settle(second);
    expect([...before.signals, ...after.signals]).toEqual(await liveSignals());
  });

  it('resolves a tier the sink was told is firing, even when the saved progress missed the firing', async () => {
    const store = new MemorySloStore();
    store.minutes.set(SLO.name, history());
    // Progress saved just before the tier fired (at T0 + 78m); the alert state saved just after.
    store.documents.set(KEY, JSON.stringify({ slos: { [SLO.name]: { lastAt: T0 + 77 * MINUTE, firing: [] } } }));
    const sink = Object.assign(new RecordingSink(), { firingTiers: () => new Set(['page-1h']) });
    await settle(engine(store, sink, () => END, { stateKey: KEY }));
    expect(summary(sink.signals)).toEqual([['resolved', 'page-1h', new Date(T0 + 94 * MINUTE).toISOString()]]);
  });

  it('evaluates what the store holds before the pipeline stored a flush: a restart without traffic still resolves', async () => {
    const store = new MemorySloStore();
    store.minutes.set(SLO.name, history());
    store.documents.set(KEY, JSON.stringify({ slos: { [SLO.name]: { lastAt: T0 + 85 * MINUTE, firing: ['page-1h'] } } }));
    store.reached = END + 30_000;
    const sink = new RecordingSink();
    const restarted = engine(store, sink, () => Number.NEGATIVE_INFINITY, { stateKey: KEY, allowedLateness: 30_000 });
    await settle(restarted);
    expect(summary(sink.signals)).toEqual([['resolved', 'page-1h', new Date(T0 + 94 * MINUTE).toISOString()]]);
    expect(restarted.status()[0]!.at).toBe(END);
  });

  it('saves a tier change at once, and does not save what did not change', async () => {
    const store = new MemorySloStore();
    store.minutes.set(SLO.name, history());
    let now = T0;
    const e = new SloEngine({ slos: [SLO], store: store.asStore(), eventTime: () => now, sink: new RecordingSink(), metrics: new SloMetrics(new Registry()), logger: silentLogger(), evaluateEvery: 60_000, stateKey: KEY, now: () => 0, saveEvery: 1_000 });
    for (; now <= T0 + 85 * MINUTE; now += MINUTE) await e.cycle();
    // The first cycle, then the firing; the wall clock stood still in between.
    expect(store.saves).toBe(2);
    expect(JSON.parse(store.documents.get(KEY)!)).toEqual({ slos: { [SLO.name]: { lastAt: expect.any(Number), firing: ['page-1h'] } } });
    await e.shutdown();
    expect(JSON.parse(store.documents.get(KEY)!).slos[SLO.name].lastAt).toBe(T0 + 85 * MINUTE);
    await e.shutdown();
    expect(store.saves).toBe(3);
  });

  it('shows where a restarted SLO stands while event time has not yet come back to it', async () => {
    const store = new MemorySloStore();
    store.minutes.set(SLO.name, history());
    store.documents.set(KEY, JSON.stringify({ slos: { [SLO.name]: { lastAt: T0 + 85 * MINUTE, firing: ['page-1h'] } } }));
    const sink = new RecordingSink();
    const restarted = engine(store, sink, () => T0 + 80 * MINUTE, { stateKey: KEY });
    await restarted.cycle();
    expect(restarted.status()[0]!.at).toBe(T0 + 85 * MINUTE);
    expect(restarted.status()[0]!.burns.find((b) => b.tier.name === 'page-1h')!.firing).toBe(true);
    expect(sink.signals).toEqual([]);
  });
});

describe('SLO engine: one lead in a consumer group', () => {
  const KEY = 'slo:group';

  it('pages and saves only while it leads; a new lead goes on from where the last one handed over, and nothing is paged twice or lost', async () => {
    const store = new MemorySloStore();
    store.minutes.set(SLO.name, history());
    const sinkA = new RecordingSink();
    const sinkB = new RecordingSink();
    let now = T0;
    const a = engine(store, sinkA, () => now, { stateKey: KEY });
    const b = engine(store, sinkB, () => now, { stateKey: KEY, leading: false });
    // Both evaluate every minute; A leads through the burn's start.
    for (; now <= T0 + 85 * MINUTE; now += MINUTE) {
      await a.cycle();
      await b.cycle();
    }
    expect(summary(sinkA.signals)).toEqual([['firing', 'page-1h', expect.any(String)]]);
    expect(sinkB.signals).toEqual([]);
    // B counted the same burn for its own status, silently.
    expect(b.status()[0]!.burns.find((x) => x.tier.name === 'page-1h')!.firing).toBe(true);
    const savedByA = store.documents.get(KEY);

    // The lead moves: A hands over (saving where it got), B takes it up; both still evaluate.
    const saves = store.saves;
    await a.lead(false);
    expect(store.saves).toBe(saves + 1);
    expect(store.documents.get(KEY)).not.toBe(savedByA);
    await b.lead(true);
    expect(b.isLead).toBe(true);
    for (; now <= END; now += MINUTE) {
      await a.cycle();
      await b.cycle();
    }
    expect(sinkA.signals).toHaveLength(1);
    expect([...sinkA.signals, ...sinkB.signals]).toEqual(await liveSignals());
    // Only the lead saves: A's stop saves nothing, B's saves where it got.
    const beforeStops = store.saves;
    await a.shutdown();
    expect(store.saves).toBe(beforeStops);
    await b.shutdown();
    expect(JSON.parse(store.documents.get(KEY)!).slos[SLO.name].lastAt).toBe(END);
  });

  it('a new lead resolves a burn the old lead fired but had not saved progress for, from the alerts it took over', async () => {
    const store = new MemorySloStore();
    store.minutes.set(SLO.name, history());
    const sink = Object.assign(new RecordingSink(), { firingTiers: () => new Set(['page-1h']) });
    // The old lead died before saving: its last progress is from before the firing.
    store.documents.set(KEY, JSON.stringify({ slos: { [SLO.name]: { lastAt: T0 + 77 * MINUTE, firing: [] } } }));
    let now = T0 + 80 * MINUTE;
    const b = engine(store, sink, () => now, { stateKey: KEY, leading: false });
    await b.cycle();
    await b.lead(true);
    for (; now <= END; now += MINUTE) await b.cycle();
    expect(summary(sink.signals)).toEqual([['resolved', 'page-1h', new Date(T0 + 94 * MINUTE).toISOString()]]);
  });
});
