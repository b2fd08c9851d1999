import { describe, expect, it } from 'vitest';
import { ownedBy } from '../../src/alerts/detectors/schema-parts.ts';
import { replay, type DetectorInput } from '../../src/alerts/detectors/replay.ts';
import { createStuckDetector, stuckSchema } from '../../src/alerts/detectors/stuck.ts';
import type { DetectorSignal } from '../../src/alerts/types.ts';
import type { WorkflowEvent } from '../../src/domain/event.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Fixed clock: event times are minutes after Tuesday 2026-11-03 09:00 UTC. */
const T0 = Date.UTC(2026, 10, 3, 9);
const at = (minute: number) => T0 + minute * MIN;
const iso = (minute: number) => new Date(at(minute)).toISOString().replace('.000Z', 'Z');

const CONFIG = ownedBy(stuckSchema.parse({
  name: 'stuck-ticket',
  owner: 'support-ops',
  workflow: 'support-ticket',
  start: { source: 'ticketing', type: 'ticket.opened' },
  progress: [
    { source: 'ticketing', type: 'ticket.updated' },
    { source: 'ticketing', type: 'ticket.triaged' },
  ],
  end: { source: 'ticketing', type: 'ticket.resolved' },
  after: '4h',
  entity: { ticket: 'ticket_id' },
  summary: 'Ticket {ticket} has had no update for {after} (since {since}) — the customer is waiting',
}));
const detector = createStuckDetector(CONFIG);

let offset = 0;
function ticket(type: string, id: string, minute: number, ticketId = 'T-1', extra: Partial<WorkflowEvent> = {}): WorkflowEvent {
  return {
    source: 'ticketing',
    id,
    type,
    time: at(minute),
    correlationId: `corr-${ticketId}`,
    data: { ticket_id: ticketId },
    origin: { topic: 'ticketing.events', partition: 0, offset: String(offset++) },
    ...extra,
  };
}
const live = (event: WorkflowEvent): DetectorInput<WorkflowEvent> => ({ input: event, watermark: event.time });
const tick = (minute: number): DetectorInput<WorkflowEvent> => ({ tick: at(minute) });
const opened = (id: string, minute: number, ticketId?: string) => live(ticket('ticket.opened', id, minute, ticketId));
const updated = (id: string, minute: number, ticketId?: string) => live(ticket('ticket.updated', id, minute, ticketId));
const resolved = (id: string, minute: number, ticketId?: string) => live(ticket('ticket.resolved', id, minute, ticketId));

const H = 60;

function stuck(sinceMinute: number, ticketId = 'T-1'): DetectorSignal {
  return {
    kind: 'firing',
    detector: 'stuck-ticket',
    key: JSON.stringify([ticketId]),
    workflow: 'support-ticket',
    owner: 'support-ops',
    severity: 'warning',
    summary: `Ticket ${ticketId} has had no update for 4h (since ${iso(sinceMinute)}) — the customer is waiting`,
    correlationId: `corr-${ticketId}`,
    businessKey: `ticket=${ticketId}`,
    at: at(sinceMinute + 4 * H),
    details: { stuckSince: at(sinceMinute + 4 * H) },
  };
}
function moved(sinceMinute: number, minute: number, by: string, reason: 'moved' | 'ended' = 'moved', type = reason === 'ended' ? 'ticket.resolved' : 'ticket.updated'): DetectorSignal {
  const firing = stuck(sinceMinute);
  return {
    ...firing,
    kind: 'resolved',
    summary: `Resolved, ${reason === 'ended' ? 'ended' : 'moved again'} (${type} ${by} at ${iso(minute)}): ${firing.summary}`,
    at: at(minute),
    details: { stuckSince: firing.at, reason },
  };
}

describe('stuck: which streams signal', () => {
  it.each<[string, DetectorInput<WorkflowEvent>[], DetectorSignal[]]>([
    ['opened and watched for less than 4h: nothing', [opened('e1', 0), tick(4 * H - 1)], []],
    ['opened and nothing for 4h: stuck, at 4h after the last activity', [opened('e1', 0), tick(4 * H), tick(5 * H)], [stuck(0)]],
    ['an update restarts the 4h', [opened('e1', 0), updated('e2', 3 * H), tick(7 * H - 1), tick(7 * H)], [stuck(3 * H)]],
    ['progress clears it', [opened('e1', 0), tick(4 * H), updated('e2', 5 * H), tick(9 * H - 1)], [stuck(0), moved(0, 5 * H, 'e2')]],
    ['a triage counts as progress too', [opened('e1', 0), tick(4 * H), live(ticket('ticket.triaged', 'e2', 5 * H))], [stuck(0), moved(0, 5 * H, 'e2', 'moved', 'ticket.triaged')]],
    ['the end clears it and forgets it', [opened('e1', 0), tick(4 * H), resolved('e3', 5 * H), tick(20 * H)], [stuck(0), moved(0, 5 * H, 'e3', 'ended')]],
    ['resolved in time: nothing, ever', [opened('e1', 0), resolved('e3', 2 * H), tick(40 * DAY)], []],
    [
      'a gap seen only when progress arrives (no tick in between) is the same story as with ticks',
      [opened('e1', 0), updated('e2', 5 * H)],
      [stuck(0), moved(0, 5 * H, 'e2')],
    ],
    ['a redelivered opening changes nothing', [opened('e1', 0), opened('e1', 0), tick(4 * H)], [stuck(0)]],
    ['a redelivered update changes nothing', [opened('e1', 0), updated('e2', 3 * H), updated('e2', 3 * H), tick(7 * H)], [stuck(3 * H)]],
    ['a late update older than the last activity changes nothing', [opened('e1', 0), updated('e2', 3 * H), { input: ticket('ticket.updated', 'e0', H), watermark: at(3 * H) }, tick(7 * H)], [stuck(3 * H)]],
    [
      'events of a ticket after its end do not bring it back (a comment on a closed ticket, a late update)',
      [opened('e1', 0), resolved('e3', H), updated('e4', 2 * H), { input: ticket('ticket.updated', 'e2', 30), watermark: at(2 * H) }, tick(30 * H)],
      [],
    ],
    ['the end arriving before the opening (out of order): nothing', [resolved('e3', 2 * H), { input: ticket('ticket.opened', 'e1', 0), watermark: at(2 * H) }, tick(30 * H)], []],
    ['a reopening after the end is watched again', [opened('e1', 0), resolved('e3', H), opened('e5', 2 * H), tick(6 * H)], [stuck(2 * H)]],
    ['an update of a ticket opened before watching began is watched from the update', [updated('e2', 0), tick(4 * H)], [stuck(0)]],
    ['tickets are watched one by one', [opened('e1', 0, 'T-1'), opened('e2', H, 'T-2'), updated('e3', 2 * H, 'T-1'), tick(5 * H)], [stuck(H, 'T-2')]],
    [
      'a failed update attempt (429) is not progress, the retry that succeeds is: nothing',
      [opened('e1', 0), live(ticket('ticket.update_failed', 'e2', H, 'T-1', { error: { code: '429' } })), updated('e3', H + 1), tick(4 * H + 1)],
      [],
    ],
    [
      // A partition that delivers late (its first fetch after the others had moved event time to
      // 5h) brings its ticket's opening and update in one batch: judged at the tick after it.
      'a late partition: opening and update arrive after the watermark passed, then one tick: nothing',
      [{ input: ticket('ticket.opened', 'e1', 0), watermark: at(5 * H) }, { input: ticket('ticket.updated', 'e2', 30), watermark: at(5 * H) }, { input: ticket('ticket.resolved', 'e3', H), watermark: at(5 * H) }, tick(5 * H)],
      [],
    ],
    ['a late partition: an opening alone, past its 4h already, is stuck at the next tick', [{ input: ticket('ticket.opened', 'e1', 0), watermark: at(5 * H) }, tick(5 * H)], [stuck(0)]],
    ['events without the ticket id are not watched', [live(ticket('ticket.opened', 'e1', 0, 'T-1', { data: {} })), tick(5 * H)], []],
  ])('%s', (_label, inputs, expected) => {
    expect(replay(detector, inputs).signals).toEqual(expected);
  });
});

describe('stuck: keyed by correlation ID, default summary', () => {
  it('names the correlation when no business key is configured', () => {
    const byCorrelation = createStuckDetector(ownedBy(stuckSchema.parse({ ...CONFIG, entity: undefined, summary: undefined, workflow: undefined })));
    const { signals } = replay(byCorrelation, [opened('e1', 0), tick(4 * H)]);
    expect(signals).toEqual([
      {
        kind: 'firing',
        detector: 'stuck-ticket',
        key: 'corr-T-1',
        owner: 'support-ops',
        severity: 'warning',
        summary: `correlation corr-T-1 has not moved for 4h (last activity ${iso(0)}) — the customer is waiting on it`,
        correlationId: 'corr-T-1',
        at: at(4 * H),
        details: { stuckSince: at(4 * H) },
      },
    ]);
  });
});

describe('stuck: memory', () => {
  it('forgets a ticket 30 days after its last activity, resolving it as forgotten', () => {
    const { signals, state } = replay(detector, [opened('e1', 0), tick(4 * H), tick(30 * 24 * H - 1), tick(30 * 24 * H)]);
    expect(signals).toEqual([
      stuck(0),
      {
        ...stuck(0),
        kind: 'resolved',
        summary: `No longer watched after 30d without activity: ${stuck(0).summary}`,
        at: at(30 * 24 * H),
        details: { stuckSince: at(4 * H), reason: 'forgotten' },
      },
    ]);
    expect(detector.size(state)).toBe(0);
  });

  it('a ticket forgotten without a tick while stuck still says it was stuck, then forgotten', () => {
    const { signals } = replay(detector, [opened('e1', 0), tick(31 * 24 * H)]);
    expect(signals.map((s) => [s.kind, s.at, s.details?.['reason']])).toEqual([
      ['firing', at(4 * H), undefined],
      ['resolved', at(30 * 24 * H), 'forgotten'],
    ]);
  });

  it('ended tickets are remembered for forgetAfter, then forgotten', () => {
    const { state } = replay(detector, [opened('e1', 0), resolved('e3', H)]);
    expect([state.tracked.size, state.ended.size]).toEqual([0, 1]);
    replay(detector, [tick(H + 30 * 24 * H)], state);
    expect([state.tracked.size, state.ended.size]).toEqual([0, 0]);
  });

  it('holds at most maxKeys tickets; a stuck one pushed out is resolved as evicted', () => {
    const small = createStuckDetector({ ...CONFIG, maxKeys: 2 });
    const { signals, state } = replay(small, [opened('e1', 0, 'T-1'), tick(4 * H), opened('e2', 4 * H, 'T-2'), opened('e3', 4 * H + 1, 'T-3')]);
    expect(state.tracked.size).toBe(2);
    expect(state.counters.evicted).toBe(1);
    expect(signals.map((s) => [s.kind, s.key, s.at, s.details?.['reason']])).toEqual([
      ['firing', '["T-1"]', at(4 * H), undefined],
      ['resolved', '["T-1"]', at(4 * H + 1), 'evicted'],
    ]);
  });

  it('an opening older than forgetAfter behind the watermark is ignored (a redelivery of last month)', () => {
    const { signals, state } = replay(detector, [{ input: ticket('ticket.opened', 'e1', 0), watermark: at(31 * 24 * H) }, tick(31 * 24 * H)]);
    expect(signals).toEqual([]);
    expect(state.counters.tooOld).toBe(1);
  });
});

describe('stuck: replays', () => {
  const stream = (): DetectorInput<WorkflowEvent>[] => [
    opened('e1', 0, 'T-1'),
    opened('e2', 10, 'T-2'),
    updated('e3', 2 * H, 'T-1'),
    opened('e4', 3 * H, 'T-3'),
    resolved('e5', 3 * H + 5, 'T-3'),
    updated('e6', 6 * H + 30, 'T-1'),
    updated('e7', 7 * H, 'T-2'),
    tick(12 * H),
  ];

  it('the same events in the same order give the same signals', () => {
    const first = replay(detector, stream()).signals;
    // Without ticks in between, each gap is told when the update that ends it arrives: T-1's
    // first, though T-2 was stuck earlier in event time. The times are the same either way.
    expect(first.map((s) => [s.kind, s.key, (s.at - T0) / MIN])).toEqual([
      ['firing', '["T-1"]', 6 * H],
      ['resolved', '["T-1"]', 6 * H + 30],
      ['firing', '["T-2"]', 4 * H + 10],
      ['resolved', '["T-2"]', 7 * H],
      ['firing', '["T-1"]', 10 * H + 30],
      ['firing', '["T-2"]', 11 * H],
    ]);
    expect(replay(detector, stream()).signals).toEqual(first);
  });

  it('redelivering every event changes no signal', () => {
    const redelivered = stream().flatMap((item): DetectorInput<WorkflowEvent>[] => ('input' in item ? [item, item] : [item]));
    expect(replay(detector, redelivered).signals).toEqual(replay(detector, stream()).signals);
  });

  it('ticking after every event gives the same signals as ticking once at the end', () => {
    const withTicks = stream().flatMap((item): DetectorInput<WorkflowEvent>[] => ('input' in item ? [item, { tick: item.watermark }] : [item]));
    expect(replay(detector, withTicks).signals).toEqual(replay(detector, stream()).signals);
  });
});
