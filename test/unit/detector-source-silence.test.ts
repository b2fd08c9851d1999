import { describe, expect, it } from 'vitest';
import { ownedBy } from '../../src/alerts/detectors/schema-parts.ts';
import { replay, type DetectorInput } from '../../src/alerts/detectors/replay.ts';
import { createSourceSilenceDetector, sourceSilenceSchema } from '../../src/alerts/detectors/source-silence.ts';
import type { DetectorSignal } from '../../src/alerts/types.ts';
import type { WorkflowEvent } from '../../src/domain/event.ts';

const MIN = 60_000;
/** Fixed clock: event times are minutes after Tuesday 2026-11-03 09:00 UTC. */
const T0 = Date.UTC(2026, 10, 3, 9);
const at = (minute: number) => T0 + minute * MIN;
const iso = (minute: number) => new Date(at(minute)).toISOString().replace('.000Z', 'Z');

const CONFIG = ownedBy(sourceSilenceSchema.parse({ name: 'source-silent', owner: 'integrations', sources: ['billing', 'crm'], after: '15m' }));
const detector = createSourceSilenceDetector(CONFIG);

let offset = 0;
function event(source: string, id: string, minute: number, extra: Partial<WorkflowEvent> = {}): WorkflowEvent {
  return {
    source,
    id,
    type: source === 'crm' ? 'subscription.upgraded' : 'invoice.updated',
    time: at(minute),
    correlationId: `c-${id}`,
    origin: { topic: `${source}.events`, partition: 0, offset: String(offset++) },
    ...extra,
  };
}
const live = (source: string, id: string, minute: number, extra: Partial<WorkflowEvent> = {}): DetectorInput<WorkflowEvent> => ({
  input: event(source, id, minute, extra),
  watermark: at(minute),
});
const tick = (minute: number): DetectorInput<WorkflowEvent> => ({ tick: at(minute) });

function silent(source: string, lastMinute: number): DetectorSignal {
  return {
    kind: 'firing',
    detector: 'source-silent',
    key: source,
    owner: 'integrations',
    severity: 'error',
    summary: `No events from ${source} for 15m (none since ${iso(lastMinute)}) — automations that depend on it may be failing unseen`,
    at: at(lastMinute + 15),
    details: { silentSince: at(lastMinute + 15) },
  };
}
function back(source: string, lastMinute: number, minute: number, id: string, type = 'invoice.updated'): DetectorSignal {
  const firing = silent(source, lastMinute);
  return {
    ...firing,
    kind: 'resolved',
    summary: `Resolved, ${source} is sending again (${type} ${id} at ${iso(minute)}): ${firing.summary}`,
    at: at(minute),
    details: { silentSince: firing.at, reason: 'events-returned' },
  };
}

describe('source silence: which streams signal', () => {
  it.each<[string, DetectorInput<WorkflowEvent>[], DetectorSignal[]]>([
    ['both sending: nothing', [live('billing', 'b1', 0), live('crm', 'c1', 1), live('billing', 'b2', 14), live('crm', 'c2', 15), tick(16)], []],
    ['nothing from billing for 15m after its last event', [live('billing', 'b1', 0), live('crm', 'c1', 10), tick(14), tick(15)], [silent('billing', 0)]],
    ['a source never heard from counts from when watching began', [tick(0), live('crm', 'c1', 10), tick(15)], [silent('billing', 0)]],
    ['a watermark that means nothing yet (-Infinity) starts no clock', [{ tick: Number.NEGATIVE_INFINITY }, live('billing', 'b1', 0), live('crm', 'c1', 0), tick(14)], []],
    ['events returning resolve it', [live('billing', 'b1', 0), live('crm', 'c1', 0), live('crm', 'c2', 14), tick(15), live('billing', 'b2', 30)], [silent('billing', 0), back('billing', 0, 30, 'b2')]],
    [
      'a gap seen only when events return (no tick in between) is the same story',
      [live('billing', 'b1', 0), live('crm', 'c1', 0), live('crm', 'c2', 14), live('billing', 'b2', 30)],
      [silent('billing', 0), back('billing', 0, 30, 'b2')],
    ],
    ['any event counts as a sign of life, a failure too', [live('billing', 'b1', 0), live('crm', 'c1', 0), live('billing', 'b2', 10, { type: 'invoice.update_failed', error: { code: '503' } }), live('crm', 'c2', 14), tick(24)], []],
    [
      'a redelivered old event while silent is no sign of life',
      [live('billing', 'b1', 0), live('crm', 'c1', 0), live('crm', 'c2', 14), tick(15), { input: event('billing', 'b1', 0), watermark: at(16) }, tick(20)],
      [silent('billing', 0)],
    ],
    [
      'a late event that does not end the silence by the watermark leaves it going on, without a signal',
      [live('billing', 'b1', 0), live('crm', 'c1', 0), live('crm', 'c2', 14), live('crm', 'c3', 28), tick(28), { input: event('billing', 'b0', 5), watermark: at(28) }],
      [silent('billing', 0)],
    ],
  ])('%s', (_label, inputs, expected) => {
    expect(replay(detector, inputs).signals).toEqual(expected);
  });

  it('several sources silent at once come in event-time order, then by name', () => {
    const { signals } = replay(detector, [tick(0), tick(40)]);
    expect(signals).toEqual([silent('billing', 0), silent('crm', 0)]);
  });

  it('holds one entry per configured source, no more', () => {
    const { state } = replay(detector, [live('billing', 'b1', 0), live('ticketing', 't1', 0), live('erp', 'e1', 0)]);
    expect(detector.size(state)).toBe(2);
  });
});

describe('source silence: replays', () => {
  const stream = (): DetectorInput<WorkflowEvent>[] => [
    live('billing', 'b1', 0),
    live('crm', 'c1', 1),
    live('crm', 'c2', 12),
    live('crm', 'c3', 25),
    live('billing', 'b2', 31),
    live('billing', 'b3', 40),
    tick(60),
  ];

  it('the same events in the same order give the same signals', () => {
    const first = replay(detector, stream()).signals;
    expect(first).toEqual([silent('billing', 0), back('billing', 0, 31, 'b2'), silent('crm', 25), silent('billing', 40)]);
    expect(replay(detector, stream()).signals).toEqual(first);
  });

  it('redelivering every event changes no signal', () => {
    const redelivered = stream().flatMap((item): DetectorInput<WorkflowEvent>[] => ('input' in item ? [item, item] : [item]));
    expect(replay(detector, redelivered).signals).toEqual(replay(detector, stream()).signals);
  });

  it('ticking every minute gives the same signals, at the same event times', () => {
    const everyMinute = stream().flatMap((item): DetectorInput<WorkflowEvent>[] => ('input' in item ? [{ tick: item.watermark - MIN }, item] : [item]));
    expect(replay(detector, everyMinute).signals).toEqual(replay(detector, stream()).signals);
  });
});
