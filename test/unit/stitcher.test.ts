import { describe, expect, it } from 'vitest';
import type { WorkflowDefinition } from '../../src/domain/workflow.ts';
import type { WorkflowEvent } from '../../src/domain/event.ts';
import type { RunRecord, SpanRecord, StitchOutput } from '../../src/domain/records.ts';
import { progressVersion, Stitcher, type StitcherOptions } from '../../src/stitch/stitcher.ts';
import type { Recovery } from '../../src/domain/store.ts';

const SEC = 1_000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Event time of the trigger in most cases: Monday 2024-03-04 09:00 UTC. */
const T0 = Date.UTC(2024, 2, 4, 9);
/** The wall clock "today" when last week's events are replayed. */
const TODAY = Date.UTC(2024, 2, 11, 14, 30);

const OPTIONS: StitcherOptions = {
  dedupeWindow: 10 * MIN,
  dedupeMaxKeys: 10_000,
  holdUnmatchedFor: HOUR,
  allowedLateness: 30 * SEC,
  idleAdvanceAfter: 30 * SEC,
  closedRunRetention: 15 * MIN,
  closedRunMemory: 10_000,
  // Sweep on every tick: the wall-clock throttle is tested on its own below.
  sweepEvery: 0,
};

const PLAN_UPGRADE: WorkflowDefinition = {
  name: 'plan-upgrade',
  owner: 'billing-platform',
  trigger: { source: 'crm', type: 'subscription.upgraded' },
  steps: [
    { name: 'invoice-updated', source: 'billing', type: 'invoice.updated', required: true, failOn: ['invoice.update_failed'] },
    { name: 'entitlement-activated', source: 'billing', type: 'entitlement.activated', required: true, failOn: [] },
    { name: 'ticket-tagged', source: 'ticketing', type: 'ticket.tagged', required: false, failOn: [] },
  ],
  compensation: [{ name: 'upgrade-reverted', source: 'crm', type: 'subscription.upgrade_reverted' }],
  deadline: 5 * MIN,
};

/** A second workflow that shares the ticket.tagged event as a required step. */
const TICKET_AUDIT: WorkflowDefinition = {
  name: 'ticket-audit',
  owner: 'support-ops',
  trigger: { source: 'ticketing', type: 'ticket.opened' },
  steps: [{ name: 'tagged', source: 'ticketing', type: 'ticket.tagged', required: true, failOn: [] }],
  compensation: [],
  deadline: HOUR,
};

const SOURCE_OF: Record<string, string> = {
  'subscription.upgraded': 'crm',
  'subscription.upgrade_reverted': 'crm',
  'invoice.updated': 'billing',
  'invoice.update_failed': 'billing',
  'entitlement.activated': 'billing',
  'ticket.tagged': 'ticketing',
  'ticket.opened': 'ticketing',
  'lead.created': 'crm',
};

/** Short names for the event types, so tables of cases read as a timeline. */
const TYPE = {
  trigger: 'subscription.upgraded',
  invoice: 'invoice.updated',
  invoiceFailed: 'invoice.update_failed',
  entitlement: 'entitlement.activated',
  ticket: 'ticket.tagged',
  reverted: 'subscription.upgrade_reverted',
  opened: 'ticket.opened',
  unrelated: 'lead.created',
} as const;
type Short = keyof typeof TYPE;

interface EventSpec {
  id?: string;
  correlationId?: string;
  error?: WorkflowEvent['error'];
  partition?: number;
}

/** An event at an offset from T0 (event time). Its id is derived from type and time unless given. */
function ev(short: Short, at: number, spec: EventSpec = {}): WorkflowEvent {
  const type = TYPE[short];
  const correlationId = spec.correlationId ?? 'corr-1';
  return {
    source: SOURCE_OF[type]!,
    id: spec.id ?? `${short}-${correlationId}-${at}`,
    type,
    time: T0 + at,
    correlationId,
    ...(spec.error ? { error: spec.error } : {}),
    origin: { topic: `${SOURCE_OF[type]}.events`, partition: spec.partition ?? 3, offset: '0' },
  };
}

function stitcher(options: Partial<StitcherOptions> = {}, workflows: WorkflowDefinition[] = [PLAN_UPGRADE]): Stitcher {
  return new Stitcher(workflows, { ...OPTIONS, ...options });
}

/** Applies events as they would arrive live: each one a second after its event time. */
function applyLive(s: Stitcher, events: readonly WorkflowEvent[], lag = SEC): boolean[] {
  return events.map((e) => s.apply(e, e.time + lag));
}

/** Keeps the newest row per run across drains, the way the store's replacing table does. */
class RunTable {
  readonly rows = new Map<string, RunRecord>();
  readonly spans = new Map<string, SpanRecord>();
  add(output: StitchOutput): StitchOutput {
    for (const run of output.runs) {
      const current = this.rows.get(run.runId);
      if (!current || current.version <= run.version) this.rows.set(run.runId, run);
    }
    for (const span of output.spans) this.spans.set(`${span.runId}|${span.step}`, span);
    return output;
  }
  get(runId: string): RunRecord {
    const row = this.rows.get(runId);
    if (!row) throw new Error(`no row for ${runId}`);
    return row;
  }
}

const withoutVersion = <T extends { version: number }>({ version: _version, ...rest }: T): Omit<T, 'version'> => rest;

const RUN_1 = 'plan-upgrade:corr-1';

/** Every ordering of a list. */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

describe('Stitcher: what a run ends as', () => {
  interface Case {
    name: string;
    events: WorkflowEvent[];
    /** An unrelated event that moves the watermark, for cases about passing deadlines. */
    watermarkTo?: number;
    expect: Partial<RunRecord>;
  }

  const cases: Case[] = [
    {
      name: 'all required steps complete the run, at the time of the latest required step',
      events: [ev('trigger', 0), ev('entitlement', 2 * MIN), ev('invoice', 1 * MIN)],
      expect: { state: 'completed', completedAt: T0 + 2 * MIN, deadlineMissed: false, missingSteps: [], failedSteps: [], eventCount: 3, lastEventAt: T0 + 2 * MIN },
    },
    {
      name: 'an optional step is not needed to complete',
      events: [ev('trigger', 0), ev('invoice', 1 * MIN), ev('entitlement', 2 * MIN)],
      expect: { state: 'completed', completedAt: T0 + 2 * MIN, missingSteps: [] },
    },
    {
      name: 'an optional step after completion does not move completedAt',
      events: [ev('trigger', 0), ev('invoice', 1 * MIN), ev('entitlement', 2 * MIN), ev('ticket', 4 * MIN)],
      expect: { state: 'completed', completedAt: T0 + 2 * MIN, eventCount: 4, lastEventAt: T0 + 4 * MIN },
    },
    {
      name: 'the optional step alone does not complete the run',
      events: [ev('trigger', 0), ev('ticket', 1 * MIN)],
      expect: { state: 'open', completedAt: 0, missingSteps: ['invoice-updated', 'entitlement-activated'] },
    },
    {
      name: 'a run missing a required step stays open before its deadline',
      events: [ev('trigger', 0), ev('invoice', 1 * MIN)],
      expect: { state: 'open', completedAt: 0, deadlineMissed: false, missingSteps: ['entitlement-activated'], deadlineAt: T0 + 5 * MIN },
    },
    {
      name: 'completing after the deadline completes late: deadlineMissed is set',
      events: [ev('trigger', 0), ev('invoice', 1 * MIN), ev('entitlement', 6 * MIN)],
      expect: { state: 'completed', completedAt: T0 + 6 * MIN, deadlineMissed: true },
    },
    {
      name: 'completing exactly at the deadline is on time',
      events: [ev('trigger', 0), ev('invoice', 1 * MIN), ev('entitlement', 5 * MIN)],
      expect: { state: 'completed', completedAt: T0 + 5 * MIN, deadlineMissed: false },
    },
    {
      name: 'completing one millisecond after the deadline is late',
      events: [ev('trigger', 0), ev('invoice', 1 * MIN), ev('entitlement', 5 * MIN + 1)],
      expect: { state: 'completed', deadlineMissed: true },
    },
    {
      name: 'a run that became deadline_missed and then completes is completed late',
      events: [ev('trigger', 0), ev('invoice', 1 * MIN), ev('unrelated', 10 * MIN, { correlationId: 'other' }), ev('entitlement', 12 * MIN)],
      expect: { state: 'completed', completedAt: T0 + 12 * MIN, deadlineMissed: true },
    },
    {
      name: 'a failed step fails the run',
      events: [ev('trigger', 0), ev('invoiceFailed', 1 * MIN, { error: { code: '402', class: 'permanent' } })],
      expect: { state: 'failed', failedSteps: ['invoice-updated'], missingSteps: ['invoice-updated', 'entitlement-activated'], deadlineMissed: false },
    },
    {
      name: 'a transient failure healed by a later success of the same step completes the run',
      events: [ev('trigger', 0), ev('invoiceFailed', 1 * MIN), ev('invoice', 2 * MIN), ev('entitlement', 3 * MIN)],
      expect: { state: 'completed', completedAt: T0 + 3 * MIN, failedSteps: [], missingSteps: [], eventCount: 4 },
    },
    {
      name: 'a success wins over a failure of the same step reported later',
      events: [ev('trigger', 0), ev('invoice', 1 * MIN), ev('invoiceFailed', 2 * MIN), ev('entitlement', 3 * MIN)],
      expect: { state: 'completed', completedAt: T0 + 3 * MIN, failedSteps: [] },
    },
    {
      name: 'a healed failure leaves the run open, not failed, while other steps are missing',
      events: [ev('trigger', 0), ev('invoiceFailed', 1 * MIN), ev('invoice', 2 * MIN)],
      expect: { state: 'open', failedSteps: [], missingSteps: ['entitlement-activated'] },
    },
    {
      name: 'a failed run past its deadline stays failed and records the missed deadline',
      events: [ev('trigger', 0), ev('invoiceFailed', 1 * MIN)],
      watermarkTo: 10 * MIN,
      expect: { state: 'failed', deadlineMissed: true },
    },
    {
      name: 'compensation marks the run compensated',
      events: [ev('trigger', 0), ev('invoice', 1 * MIN), ev('reverted', 2 * MIN)],
      expect: { state: 'compensated', completedAt: 0, deadlineMissed: false, missingSteps: ['entitlement-activated'] },
    },
    {
      name: 'compensation after completion keeps completedAt',
      events: [ev('trigger', 0), ev('invoice', 1 * MIN), ev('entitlement', 2 * MIN), ev('reverted', 3 * MIN)],
      expect: { state: 'compensated', completedAt: T0 + 2 * MIN },
    },
    {
      name: 'compensation wins over a failed step',
      events: [ev('trigger', 0), ev('invoiceFailed', 1 * MIN), ev('reverted', 2 * MIN)],
      expect: { state: 'compensated', failedSteps: ['invoice-updated'] },
    },
    {
      name: 'compensation past the deadline is not a missed deadline',
      events: [ev('trigger', 0), ev('reverted', 9 * MIN)],
      watermarkTo: 20 * MIN,
      expect: { state: 'compensated', deadlineMissed: false },
    },
    {
      name: 'nothing after the trigger, past deadline and lateness: deadline_missed',
      events: [ev('trigger', 0)],
      watermarkTo: 5 * MIN + 30 * SEC,
      expect: { state: 'deadline_missed', deadlineMissed: true, completedAt: 0, missingSteps: ['invoice-updated', 'entitlement-activated'] },
    },
    {
      name: 'nothing after the trigger, one millisecond short of deadline plus lateness: still open',
      events: [ev('trigger', 0)],
      watermarkTo: 5 * MIN + 30 * SEC - 1,
      expect: { state: 'open', deadlineMissed: false },
    },
    {
      name: 'the run belongs to the trigger: owner, partition and times',
      events: [ev('trigger', 0, { partition: 7 })],
      expect: { runId: RUN_1, workflow: 'plan-upgrade', owner: 'billing-platform', correlationId: 'corr-1', partition: 7, startedAt: T0, deadlineAt: T0 + 5 * MIN, eventCount: 1 },
    },
  ];

  // A loop rather than it.each: the names are sentences, and it.each would cut them short.
  for (const { name, events, watermarkTo, expect: expected } of cases) {
    it(name, () => {
      const s = stitcher();
      const table = new RunTable();
      const all = watermarkTo === undefined ? events : [...events, ev('unrelated', watermarkTo, { correlationId: 'clock' })];
      applyLive(s, all);
      const last = all.reduce((max, e) => Math.max(max, e.time), 0);
      s.tick(last + SEC);
      table.add(s.drain());
      expect(table.get(RUN_1)).toMatchObject(expected);
    });
  }
});

describe('Stitcher: redelivery and idempotency', () => {
  it('a redelivered event changes nothing: apply returns false and no rows follow', () => {
    const s = stitcher();
    const trigger = ev('trigger', 0);
    const invoice = ev('invoice', MIN);
    expect(applyLive(s, [trigger, invoice])).toEqual([true, true]);
    s.drain();
    expect(s.apply({ ...invoice }, invoice.time + 5 * SEC)).toBe(false);
    expect(s.apply({ ...trigger }, trigger.time + 5 * SEC)).toBe(false);
    expect(s.drain()).toEqual({ events: [], runs: [], spans: [], sloOutcomes: [] });
    expect(s.counters).toMatchObject({ accepted: 2, duplicates: 2, runsStarted: 1, extraTriggers: 0 });
    expect(s.pendingRows).toBe(0);
  });

  it('the idempotency key is (source, id): the same id from another source is a different event', () => {
    const s = stitcher();
    s.apply(ev('trigger', 0, { id: 'evt-1' }), T0);
    expect(s.apply(ev('invoice', MIN, { id: 'evt-1' }), T0 + MIN)).toBe(true);
    expect(s.counters.duplicates).toBe(0);
  });

  it('a redelivery with different content is still the same event', () => {
    const s = stitcher();
    s.apply(ev('trigger', 0), T0);
    const invoice = ev('invoice', MIN);
    s.apply(invoice, T0 + MIN);
    expect(s.apply({ ...invoice, type: 'invoice.update_failed', time: invoice.time + MIN }, T0 + 2 * MIN)).toBe(false);
    s.tick(T0 + 2 * MIN);
    const run = s.drain().runs[0]!;
    expect([run.failedSteps, run.lastEventAt]).toEqual([[], T0 + MIN]);
  });

  it('a redelivery after the dedupe window is stored again but does not count twice in the run', () => {
    const s = stitcher({ dedupeWindow: MIN });
    const table = new RunTable();
    applyLive(s, [ev('trigger', 0), ev('invoice', MIN), ev('ticket', 10 * MIN)]);
    s.tick(T0 + 10 * MIN + SEC);
    table.add(s.drain());
    expect(s.apply(ev('invoice', MIN), T0 + 11 * MIN)).toBe(true);
    const output = table.add(s.drain());
    expect([output.events.length, output.runs.length]).toEqual([1, 0]);
    expect(table.get(RUN_1).eventCount).toBe(3);
  });

  it('a second trigger with another id does not start a second run', () => {
    const s = stitcher();
    applyLive(s, [ev('trigger', 0, { id: 'first' }), ev('trigger', 30 * SEC, { id: 'second' })]);
    expect([s.openRuns, s.counters.runsStarted, s.counters.extraTriggers]).toEqual([1, 1, 1]);
  });

  it('two trigger events start the run at the earlier one, in whichever order they arrive', () => {
    const first = ev('trigger', 0, { id: 'first' });
    const second = ev('trigger', 2 * MIN, { id: 'second' });
    const rows = [
      [first, second],
      [second, first],
    ].map((order) => {
      const s = stitcher();
      for (const e of order) s.apply(e, T0 + 3 * MIN);
      s.tick(T0 + 3 * MIN);
      return withoutVersion(s.drain().runs[0]!);
    });
    expect(rows[0]).toMatchObject({ startedAt: T0, deadlineAt: T0 + 5 * MIN, eventCount: 2, lastEventAt: T0 + 2 * MIN });
    expect(rows[1]).toEqual(rows[0]);
  });

  it('an event no workflow knows is stored and counted as unmatched', () => {
    const s = stitcher();
    expect(s.apply(ev('unrelated', 0), T0)).toBe(true);
    const output = s.drain();
    expect([output.events.length, output.runs.length, s.counters.unmatched, s.heldCount()]).toEqual([1, 0, 1, 0]);
  });

  it('event rows carry the event as received, with data as JSON and the wall-clock arrival', () => {
    const s = stitcher();
    s.apply({ ...ev('trigger', 0), subject: 'acct-7', data: { plan: 'pro' }, error: { code: '0' } }, T0 + 2 * SEC);
    s.apply(ev('invoice', MIN), T0 + MIN);
    expect(s.drain().events).toEqual([
      {
        source: 'crm',
        id: 'trigger-corr-1-0',
        type: 'subscription.upgraded',
        time: T0,
        correlationId: 'corr-1',
        subject: 'acct-7',
        data: '{"plan":"pro"}',
        error: { code: '0' },
        origin: { topic: 'crm.events', partition: 3, offset: '0' },
        receivedAt: T0 + 2 * SEC,
      },
      {
        source: 'billing',
        id: 'invoice-corr-1-60000',
        type: 'invoice.updated',
        time: T0 + MIN,
        correlationId: 'corr-1',
        subject: '',
        data: '',
        error: {},
        origin: { topic: 'billing.events', partition: 3, offset: '0' },
        receivedAt: T0 + MIN,
      },
    ]);
  });
});

describe('Stitcher: steps that arrive before their trigger', () => {
  it('a step before its trigger is held, then attached when the trigger arrives', () => {
    const s = stitcher();
    expect(s.apply(ev('invoice', MIN), T0 + MIN)).toBe(true);
    expect([s.heldCount(), s.openRuns]).toEqual([1, 0]);
    expect(s.drain().runs).toEqual([]);
    s.apply(ev('trigger', 0), T0 + 2 * MIN);
    expect(s.heldCount()).toBe(0);
    const run = s.drain().runs[0]!;
    expect(run).toMatchObject({ state: 'open', missingSteps: ['entitlement-activated'], eventCount: 2, lastEventAt: T0 + MIN });
  });

  it('held steps of one correlation ID do not attach to another', () => {
    const s = stitcher();
    s.apply(ev('invoice', MIN, { correlationId: 'corr-2' }), T0 + MIN);
    s.apply(ev('trigger', 0), T0 + 2 * MIN);
    expect(s.heldCount()).toBe(1);
    expect(s.drain().runs[0]!.missingSteps).toEqual(['invoice-updated', 'entitlement-activated']);
  });

  it('all held steps complete the run the moment the trigger arrives', () => {
    const s = stitcher();
    applyLive(s, [ev('entitlement', 2 * MIN), ev('invoice', MIN), ev('trigger', 0)]);
    expect(s.drain().runs).toEqual([expect.objectContaining({ state: 'completed', completedAt: T0 + 2 * MIN, eventCount: 3 })]);
  });

  it('a held step that another workflow still waits for stays held for it', () => {
    const s = stitcher({}, [PLAN_UPGRADE, TICKET_AUDIT]);
    s.apply(ev('ticket', MIN), T0 + MIN);
    s.apply(ev('trigger', 0), T0 + 2 * MIN);
    expect(s.heldCount()).toBe(1);
    s.apply(ev('opened', 30 * SEC), T0 + 3 * MIN);
    expect(s.heldCount()).toBe(0);
    const runs = new RunTable();
    runs.add(s.drain());
    expect(runs.get('ticket-audit:corr-1')).toMatchObject({ state: 'completed', completedAt: T0 + MIN, eventCount: 2 });
    expect(runs.get(RUN_1)).toMatchObject({ state: 'open', eventCount: 2 });
  });

  it('a step shared by two workflows attaches to both runs when both exist', () => {
    const s = stitcher({}, [PLAN_UPGRADE, TICKET_AUDIT]);
    applyLive(s, [ev('trigger', 0), ev('opened', 10 * SEC), ev('ticket', MIN)]);
    const runs = new RunTable();
    runs.add(s.drain());
    expect([runs.get(RUN_1).eventCount, runs.get('ticket-audit:corr-1').state, s.heldCount()]).toEqual([2, 'completed', 0]);
  });

  it.each([
    ['exactly holdUnmatchedFor old is kept', HOUR, 0, 1],
    ['one millisecond older is dropped', HOUR + 1, 1, 0],
  ])('held steps expire after holdUnmatchedFor of event time: %s', (_label, watermarkAt, expired, held) => {
    const s = stitcher({ dedupeWindow: 2 * HOUR });
    s.apply(ev('invoice', 0, { correlationId: 'corr-9' }), T0);
    s.apply(ev('unrelated', watermarkAt, { correlationId: 'clock' }), T0 + watermarkAt);
    s.tick(T0 + watermarkAt);
    expect([s.counters.heldExpired, s.heldCount()]).toEqual([expired, held]);
  });

  it('a trigger after its held step expired starts a run without that step', () => {
    const s = stitcher({ dedupeWindow: 2 * HOUR });
    s.apply(ev('invoice', 0, { correlationId: 'corr-9' }), T0);
    s.apply(ev('unrelated', 2 * HOUR, { correlationId: 'clock' }), T0 + 2 * HOUR);
    s.tick(T0 + 2 * HOUR);
    s.apply(ev('trigger', -MIN, { correlationId: 'corr-9' }), T0 + 2 * HOUR);
    expect(s.drain().runs).toEqual([expect.objectContaining({ runId: 'plan-upgrade:corr-9', eventCount: 1, missingSteps: ['invoice-updated', 'entitlement-activated'] })]);
    expect(s.counters.heldExpired).toBe(1);
  });
});

describe('Stitcher: held steps are capped', () => {
  it('past maxHeldSteps the longest-held correlation IDs are let go first, and counted', () => {
    const s = stitcher({ maxHeldSteps: 3 });
    for (let i = 0; i < 5; i++) s.apply(ev('invoice', i * SEC, { correlationId: `orphan-${i}` }), T0 + i * SEC);
    expect([s.heldCount(), s.counters.heldEvicted]).toEqual([3, 2]);
    // The newest are still held: their trigger finds them; the oldest's does not.
    s.apply(ev('trigger', 0, { correlationId: 'orphan-4' }), T0 + 10 * SEC);
    s.apply(ev('trigger', 0, { correlationId: 'orphan-0' }), T0 + 10 * SEC);
    const runs = new RunTable();
    runs.add(s.drain());
    expect([runs.get('plan-upgrade:orphan-4').eventCount, runs.get('plan-upgrade:orphan-0').eventCount]).toEqual([2, 1]);
  });

  it('one correlation ID alone over the cap keeps its newest steps', () => {
    const s = stitcher({ maxHeldSteps: 2 });
    s.apply(ev('invoice', 0, { correlationId: 'flood' }), T0);
    s.apply(ev('entitlement', SEC, { correlationId: 'flood' }), T0 + SEC);
    s.apply(ev('ticket', 2 * SEC, { correlationId: 'flood' }), T0 + 2 * SEC);
    expect([s.heldCount(), s.counters.heldEvicted]).toEqual([2, 1]);
    s.apply(ev('trigger', 0, { correlationId: 'flood' }), T0 + 3 * SEC);
    expect(s.drain().runs[0]).toMatchObject({ eventCount: 3, missingSteps: ['invoice-updated'] });
  });

  it('a flood of orphan steps holds memory at the cap', () => {
    const s = stitcher({ maxHeldSteps: 1_000, dedupeMaxKeys: 10 });
    for (let i = 0; i < 200_000; i++) {
      s.apply(ev('invoice', 0, { correlationId: `o-${i}`, id: `i-${i}` }), T0);
      if (i % 10_000 === 0) s.drain();
    }
    expect(s.heldCount()).toBeLessThanOrEqual(1_000);
    expect(s.heldCount()).toBeGreaterThanOrEqual(1_000 - 1_000 / 64);
    expect(s.heldCount() + s.counters.heldEvicted).toBe(200_000);
  });

  it('a large cap is cut 1/64 below itself at once, so the walk to the oldest is not paid per held step', () => {
    const s = stitcher({ maxHeldSteps: 6_400, dedupeMaxKeys: 10 });
    for (let i = 0; i <= 6_400; i++) s.apply(ev('invoice', 0, { correlationId: `o-${i}`, id: `i-${i}` }), T0);
    expect([s.heldCount(), s.counters.heldEvicted]).toEqual([6_300, 101]);
    // Below the cap again, the next steps are held without letting any go.
    for (let i = 6_401; i <= 6_500; i++) s.apply(ev('invoice', 0, { correlationId: `o-${i}`, id: `i-${i}` }), T0);
    expect([s.heldCount(), s.counters.heldEvicted]).toEqual([6_400, 101]);
  });
});

describe('Stitcher: deadlines are judged in event time', () => {
  /** Last week: three upgrades, one on time, one late, one never finished; then later traffic. */
  const lastWeek: WorkflowEvent[] = [
    ev('trigger', 0, { correlationId: 'on-time' }),
    ev('invoice', 1 * MIN, { correlationId: 'on-time' }),
    ev('trigger', 2 * MIN, { correlationId: 'late' }),
    ev('entitlement', 3 * MIN, { correlationId: 'on-time' }),
    ev('trigger', 4 * MIN, { correlationId: 'stuck' }),
    ev('invoice', 5 * MIN, { correlationId: 'late' }),
    ev('invoice', 6 * MIN, { correlationId: 'stuck' }),
    ev('entitlement', 9 * MIN, { correlationId: 'late' }),
    ev('trigger', 20 * MIN, { correlationId: 'recent' }),
    ev('ticket', 21 * MIN, { correlationId: 'recent' }),
    // Later traffic on every topic: the watermark follows the slowest topic still delivering.
    ev('unrelated', 24 * MIN, { correlationId: 'later' }),
    ev('invoice', 24 * MIN, { correlationId: 'later' }),
    ev('ticket', 24 * MIN, { correlationId: 'later' }),
  ];

  const expected = {
    'on-time': { state: 'completed', deadlineMissed: false, completedAt: T0 + 3 * MIN },
    late: { state: 'completed', deadlineMissed: true, completedAt: T0 + 9 * MIN },
    stuck: { state: 'deadline_missed', deadlineMissed: true, completedAt: 0 },
    recent: { state: 'open', deadlineMissed: false, completedAt: 0 },
  };

  function verdicts(table: RunTable) {
    return Object.fromEntries(
      Object.keys(expected).map((c) => {
        const { state, deadlineMissed, completedAt } = table.get(`plan-upgrade:${c}`);
        return [c, { state, deadlineMissed, completedAt }];
      }),
    );
  }

  it('live: each event a second after it happened, ticking after every event', () => {
    const s = stitcher();
    const table = new RunTable();
    for (const e of lastWeek) {
      s.apply(e, e.time + SEC);
      s.tick(e.time + SEC);
      table.add(s.drain());
    }
    expect(verdicts(table)).toEqual(expected);
  });

  it("replaying last week's events with today's wall clock gives the same verdicts as live", () => {
    const s = stitcher();
    const table = new RunTable();
    for (const e of lastWeek) s.apply(e, TODAY);
    s.tick(TODAY);
    table.add(s.drain());
    expect(verdicts(table)).toEqual(expected);
  });

  it('a replay gives the same run rows as live, apart from version', () => {
    const live = stitcher();
    const liveTable = new RunTable();
    for (const e of lastWeek) {
      live.apply(e, e.time + SEC);
      live.tick(e.time + SEC);
      liveTable.add(live.drain());
    }
    const replay = stitcher();
    const replayTable = new RunTable();
    for (const e of lastWeek) replay.apply(e, TODAY);
    replay.tick(TODAY);
    replayTable.add(replay.drain());
    const rows = (t: RunTable) => [...t.rows.values()].map(withoutVersion).sort((a, b) => a.runId.localeCompare(b.runId));
    expect(rows(replayTable)).toEqual(rows(liveTable));
  });

  it('a replay with a wall clock far ahead does not judge deadlines from the wall clock', () => {
    const s = stitcher();
    s.apply(ev('trigger', 0), TODAY);
    s.tick(TODAY);
    expect(s.drain().runs[0]).toMatchObject({ state: 'open', deadlineMissed: false });
  });

  it.each([
    ['before deadline + allowedLateness', 'open', 5 * MIN + 30 * SEC - 1],
    ['at deadline + allowedLateness', 'deadline_missed', 5 * MIN + 30 * SEC],
    ['past deadline but within allowedLateness', 'open', 5 * MIN + 1],
  ])('on tick, with the watermark %s, the run is %s', (_label, state, watermarkAt) => {
    const s = stitcher();
    s.apply(ev('trigger', 0), T0 + SEC);
    s.drain();
    s.apply(ev('unrelated', watermarkAt, { correlationId: 'clock' }), T0 + watermarkAt);
    s.tick(T0 + watermarkAt);
    const rows = s.drain().runs.filter((r) => r.runId === RUN_1);
    expect(rows.map((r) => r.state)).toEqual(state === 'open' ? [] : [state]);
    expect(s.stateCounts()[state as 'open' | 'deadline_missed']).toBe(1);
  });

  it('allowedLateness of zero misses the deadline as soon as the watermark reaches it', () => {
    const s = stitcher({ allowedLateness: 0 });
    applyLive(s, [ev('trigger', 0), ev('unrelated', 5 * MIN, { correlationId: 'clock' })]);
    s.tick(T0 + 5 * MIN + SEC);
    expect(s.drain().runs[0]).toMatchObject({ state: 'deadline_missed' });
  });

  it('a topic read ahead of another does not pass the deadline of a run whose steps are unread', () => {
    const s = stitcher();
    // Replay: the CRM topic is read an hour ahead while billing has only reached minute 1.
    s.apply(ev('trigger', 0), TODAY);
    s.apply(ev('invoice', MIN), TODAY);
    s.apply(ev('unrelated', HOUR, { correlationId: 'clock' }), TODAY);
    s.tick(TODAY);
    expect(s.stateCounts().open).toBe(1);
    s.apply(ev('entitlement', 2 * MIN), TODAY);
    expect(s.drain().runs.find((r) => r.runId === RUN_1)).toMatchObject({ state: 'completed', deadlineMissed: false });
  });

  it('a partition that moved away no longer holds deadlines back', () => {
    const s = stitcher();
    s.apply(ev('trigger', 0, { partition: 1 }), TODAY);
    s.apply(ev('unrelated', HOUR, { correlationId: 'clock', partition: 1 }), TODAY);
    s.apply(ev('invoice', MIN, { correlationId: 'elsewhere', partition: 2 }), TODAY);
    s.tick(TODAY);
    expect(s.stateCounts().open).toBe(1);
    s.dropPartitions((p) => p === 1);
    s.tick(TODAY);
    expect(s.stateCounts()).toMatchObject({ open: 0, deadline_missed: 1 });
  });

  it('a tick with nothing due writes nothing', () => {
    const s = stitcher();
    applyLive(s, [ev('trigger', 0)]);
    s.drain();
    s.tick(T0 + 2 * SEC);
    s.tick(T0 + 3 * SEC);
    expect(s.drain()).toEqual({ events: [], runs: [], spans: [], sloOutcomes: [] });
  });

  it('a tick before any event does nothing', () => {
    const s = stitcher();
    s.tick(TODAY);
    expect([s.drain(), s.openRuns]).toEqual([{ events: [], runs: [], spans: [], sloOutcomes: [] }, 0]);
  });
});

describe('Stitcher: idle advance', () => {
  // Trigger at T0, arriving at T0 + 1s. With no more events, the watermark stands still for
  // idleAdvanceAfter of wall time, then moves with the wall clock.
  const arrival = T0 + SEC;
  const missedAt = arrival + OPTIONS.idleAdvanceAfter + 5 * MIN + OPTIONS.allowedLateness;

  it.each([
    ['one millisecond before idle advance reaches deadline + lateness', 'open', missedAt - 1],
    ['when idle advance reaches deadline + lateness', 'deadline_missed', missedAt],
  ])('with no events at all, %s, the run is %s on tick', (_label, state, now) => {
    // At missedAt the watermark is T0 + (now - arrival - idle) = T0 + 5m30s exactly.
    const s = stitcher();
    s.apply(ev('trigger', 0), arrival);
    s.tick(now);
    expect(s.stateCounts()[state as 'open' | 'deadline_missed']).toBe(1);
  });

  it('does not move the watermark while events keep arriving', () => {
    const s = stitcher();
    s.apply(ev('trigger', 0), arrival);
    // An unrelated event with an old time keeps arrivals going without moving event time.
    for (let i = 1; i <= 20; i++) s.apply(ev('unrelated', 0, { correlationId: `noise-${i}` }), arrival + i * 20 * SEC);
    s.tick(arrival + 20 * 20 * SEC);
    expect(s.stateCounts().open).toBe(1);
  });

  it('a deadline_missed run from idle advance still completes late when its steps arrive', () => {
    const s = stitcher();
    s.apply(ev('trigger', 0), arrival);
    s.tick(T0 + HOUR);
    s.drain();
    applyLive(s, [ev('invoice', 50 * MIN), ev('entitlement', 55 * MIN)]);
    expect(s.drain().runs).toEqual([expect.objectContaining({ state: 'completed', deadlineMissed: true, completedAt: T0 + 55 * MIN })]);
  });
});

describe('Stitcher: any order of the same events gives the same run', () => {
  it('all 120 orders of five events end in the same run row (except version) and the same spans', () => {
    const events = [
      ev('trigger', 0),
      ev('invoiceFailed', 1 * MIN, { error: { code: '503', class: 'transient' } }),
      ev('invoice', 2 * MIN),
      ev('ticket', 3 * MIN),
      ev('entitlement', 7 * MIN),
    ];
    const results = permutations(events).map((order) => {
      const s = stitcher();
      const table = new RunTable();
      for (const e of order) s.apply(e, T0 + 8 * MIN);
      s.tick(T0 + 8 * MIN);
      table.add(s.drain());
      const spans = [...table.spans.values()].map(withoutVersion).sort((a, b) => a.step.localeCompare(b.step));
      return { run: withoutVersion(table.get(RUN_1)), spans };
    });
    expect(results).toHaveLength(120);
    expect(results[0]!.run).toEqual({
      runId: RUN_1,
      workflow: 'plan-upgrade',
      owner: 'billing-platform',
      correlationId: 'corr-1',
      partition: 3,
      state: 'completed',
      startedAt: T0,
      deadlineAt: T0 + 5 * MIN,
      completedAt: T0 + 7 * MIN,
      deadlineMissed: true,
      missingSteps: [],
      failedSteps: [],
      eventCount: 5,
      lastEventAt: T0 + 7 * MIN,
    });
    for (const result of results) expect(result).toEqual(results[0]);
  });

  it('all orders of a failure, a compensation and a late step end compensated', () => {
    const events = [ev('trigger', 0), ev('invoiceFailed', MIN), ev('reverted', 4 * MIN), ev('entitlement', 9 * MIN)];
    const rows = permutations(events).map((order) => {
      const s = stitcher();
      for (const e of order) s.apply(e, T0 + 10 * MIN);
      s.tick(T0 + 10 * MIN);
      return withoutVersion(s.drain().runs[0]!);
    });
    expect(rows[0]).toMatchObject({ state: 'compensated', failedSteps: ['invoice-updated'], missingSteps: ['invoice-updated'], deadlineMissed: false });
    for (const row of rows) expect(row).toEqual(rows[0]);
  });

  it('two reports of the same step at the same time settle on the same event in any order', () => {
    const a = ev('invoiceFailed', MIN, { id: 'fail-a', error: { code: 'A' } });
    const b = ev('invoiceFailed', MIN, { id: 'fail-b', error: { code: 'B' } });
    const spans = [
      [a, b],
      [b, a],
    ].map((order) => {
      const s = stitcher();
      for (const e of [ev('trigger', 0), ...order]) s.apply(e, T0 + 2 * MIN);
      return s.drain().spans.find((span) => span.step === 'invoice-updated')!;
    });
    expect([spans[0]!.eventId, spans[0]!.errorCode]).toEqual(['fail-a', 'A']);
    expect(withoutVersion(spans[1]!)).toEqual(withoutVersion(spans[0]!));
  });
});

describe('Stitcher: closed runs are forgotten but not reopened', () => {
  const completedRun = [ev('trigger', 0), ev('invoice', MIN), ev('entitlement', 2 * MIN)];

  /** Completes a run, drains it, then moves event time to `at` and ticks. */
  function completeAndAdvance(options: Partial<StitcherOptions>, at: number): Stitcher {
    const s = stitcher(options);
    applyLive(s, completedRun);
    s.drain();
    s.apply(ev('unrelated', at, { correlationId: 'clock' }), T0 + at);
    s.tick(T0 + at);
    s.drain();
    return s;
  }

  it.each([
    ['exactly closedRunRetention after its last event, kept', 2 * MIN + 15 * MIN, 1, 0],
    ['past closedRunRetention, evicted', 2 * MIN + 15 * MIN + 1, 0, 1],
  ])('a completed run %s', (_label, at, open, evicted) => {
    const s = completeAndAdvance({}, at);
    expect([s.openRuns, s.counters.runsEvicted]).toEqual([open, evicted]);
  });

  it('a completed run with rows not yet drained is not evicted', () => {
    const s = stitcher();
    applyLive(s, [...completedRun, ev('unrelated', HOUR, { correlationId: 'clock' })]);
    s.tick(T0 + HOUR);
    expect(s.openRuns).toBe(1);
    expect(s.drain().runs).toHaveLength(1);
    s.tick(T0 + HOUR);
    expect(s.openRuns).toBe(0);
  });

  it('a late duplicate trigger, after the dedupe window, does not reopen an evicted run', () => {
    const s = completeAndAdvance({ dedupeWindow: MIN }, HOUR);
    expect(s.apply(ev('trigger', 0), T0 + HOUR)).toBe(true);
    const output = s.drain();
    expect([output.runs, output.events.length, s.openRuns, s.counters.lateForClosedRun]).toEqual([[], 1, 0, 1]);
  });

  it('a trigger with a new id for an evicted run does not reopen it either', () => {
    const s = completeAndAdvance({}, HOUR);
    s.apply(ev('trigger', 30 * SEC, { id: 'retried-trigger' }), T0 + HOUR);
    expect([s.drain().runs, s.openRuns, s.counters.lateForClosedRun]).toEqual([[], 0, 1]);
  });

  it('a late step for an evicted run is counted, not held', () => {
    const s = completeAndAdvance({}, HOUR);
    s.apply(ev('ticket', 50 * MIN), T0 + HOUR);
    expect([s.drain().runs, s.heldCount(), s.counters.lateForClosedRun]).toEqual([[], 0, 1]);
  });

  it('an open run is forgotten only after runHorizon', () => {
    const s = stitcher({ runHorizon: DAY });
    applyLive(s, [ev('trigger', 0), ev('unrelated', DAY, { correlationId: 'clock' })]);
    s.tick(T0 + DAY);
    s.drain();
    s.tick(T0 + DAY);
    expect(s.openRuns).toBe(1);
    s.apply(ev('unrelated', DAY + 1, { correlationId: 'clock' }), T0 + DAY + 1);
    s.tick(T0 + DAY + 1);
    expect([s.openRuns, s.counters.runsEvicted]).toEqual([0, 1]);
    s.apply(ev('invoice', 10 * MIN), T0 + DAY + 2);
    expect(s.counters.lateForClosedRun).toBe(1);
  });

  it('a run whose deadline is longer than runHorizon is judged deadline_missed before it is forgotten', () => {
    const monthly: WorkflowDefinition = { ...PLAN_UPGRADE, deadline: 3 * DAY };
    const s = stitcher({ runHorizon: DAY }, [monthly]);
    const table = new RunTable();
    s.apply(ev('trigger', 0), T0);
    for (const at of [2 * DAY, 3 * DAY + 30 * SEC, 3 * DAY + 31 * SEC]) {
      s.apply(ev('unrelated', at, { correlationId: 'clock' }), T0 + at);
      s.tick(T0 + at);
      table.add(s.drain());
      s.tick(T0 + at);
    }
    expect(table.get(RUN_1)).toMatchObject({ state: 'deadline_missed', deadlineMissed: true });
    expect(s.openRuns).toBe(0);
  });

  it('closedRunMemory bounds how many forgotten runs are remembered, oldest first', () => {
    const s = stitcher({ closedRunMemory: 1 });
    for (const c of ['a', 'b']) applyLive(s, completedRun.map((e) => ({ ...e, correlationId: c, id: `${e.id}-${c}` })));
    s.drain();
    s.apply(ev('unrelated', HOUR, { correlationId: 'clock' }), T0 + HOUR);
    s.tick(T0 + HOUR);
    s.drain();
    s.apply(ev('trigger', 0, { correlationId: 'b', id: 'again-b' }), T0 + HOUR);
    s.apply(ev('trigger', 0, { correlationId: 'a', id: 'again-a' }), T0 + HOUR);
    expect([s.counters.lateForClosedRun, s.counters.runsStarted]).toEqual([1, 3]);
  });
});

describe('Stitcher: restore after a restart or a partition assignment', () => {
  const recovery = (events: WorkflowEvent[], runs: Recovery['runs'] = []): Recovery => ({
    events,
    runs,
    maxEventTime: events.length === 0 ? null : Math.max(...events.map((e) => e.time)),
  });

  it('rebuilds an open run from its stored events and writes it again', () => {
    const s = stitcher();
    s.restore(recovery([ev('invoice', MIN), ev('trigger', 0)], [{ runId: RUN_1, state: 'open', version: 5 }]), T0 + 2 * MIN);
    const output = s.drain();
    expect(output.events).toEqual([]);
    expect(output.runs).toEqual([expect.objectContaining({ runId: RUN_1, state: 'open', eventCount: 2, missingSteps: ['entitlement-activated'] })]);
    expect(output.runs[0]!.version).toBeGreaterThan(5);
    expect(s.counters.accepted).toBe(0);
  });

  it.each([
    ['deadline_missed', [ev('trigger', 0)], { state: 'deadline_missed', deadlineMissed: true }],
    ['failed', [ev('trigger', 0), ev('invoiceFailed', 2 * MIN)], { state: 'failed', deadlineMissed: true }],
  ] as const)(
    'keeps a run the store has as %s past its deadline so, though the watermark it is rebuilt at is before the deadline (a partition taken over)',
    (state, events, expected) => {
      const s = stitcher();
      // Seeded from stored events that reach only a minute past the trigger; the last owner had judged it at a later time.
      s.restore({ ...recovery([...events], [{ runId: RUN_1, state, version: 7, deadlineMissed: true }]), maxEventTime: T0 + MIN }, T0 + MIN);
      expect(s.drain().runs).toEqual([expect.objectContaining({ runId: RUN_1, ...expected })]);
    },
  );

  it('the rebuilt row outranks the stored one even when this clock is behind the writer', () => {
    const s = stitcher();
    const storedVersion = progressVersion(1, T0 + HOUR);
    s.restore(recovery([ev('trigger', 0)], [{ runId: RUN_1, state: 'open', version: storedVersion }]), T0 + MIN);
    expect(s.drain().runs[0]!.version).toBe(storedVersion + 1);
  });

  it('rebuilds a run the store has as completed as completed, never open again', () => {
    const s = stitcher();
    s.restore(recovery(completedRunEvents(), [{ runId: RUN_1, state: 'completed', version: 9 }]), T0 + 3 * MIN);
    expect(s.drain().runs).toEqual([expect.objectContaining({ state: 'completed', completedAt: T0 + 2 * MIN, eventCount: 3 })]);
    expect(s.stateCounts()).toMatchObject({ open: 0, completed: 1 });
    s.apply(ev('trigger', 10 * SEC, { id: 'a-new-trigger' }), T0 + 4 * MIN);
    expect(s.drain().runs.map((r) => r.state)).toEqual(['completed']);
    expect([s.counters.runsStarted, s.stateCounts().open]).toEqual([1, 0]);
  });

  it('a late compensation still applies to a restored completed run', () => {
    const s = stitcher();
    s.restore(recovery(completedRunEvents(), [{ runId: RUN_1, state: 'completed', version: 9 }]), T0 + 3 * MIN);
    s.drain();
    s.apply(ev('reverted', 4 * MIN), T0 + 4 * MIN);
    expect(s.drain().runs).toEqual([expect.objectContaining({ state: 'compensated', eventCount: 4 })]);
  });

  it.each(['completed', 'compensated'] as const)(
    'does not open a run the store has as %s when its trigger is not among the recovered events',
    (state) => {
      const s = stitcher();
      s.restore(recovery([ev('invoice', MIN), ev('entitlement', 2 * MIN)], [{ runId: RUN_1, state, version: 9 }]), T0 + 3 * MIN);
      s.apply(ev('trigger', 0, { id: 'redelivered-trigger' }), T0 + 4 * MIN);
      expect([s.drain().runs, s.openRuns, s.counters.lateForClosedRun]).toEqual([[], 0, 1]);
    },
  );

  it('rebuilds runs again when a partition comes back, even though their events were seen before', () => {
    const s = stitcher();
    const events = [ev('trigger', 0), ev('invoice', MIN)];
    applyLive(s, events);
    s.drain();
    s.dropPartitions(() => false);
    expect(s.openRuns).toBe(0);
    s.restore(recovery(events), T0 + 2 * MIN);
    expect(s.drain().runs).toEqual([expect.objectContaining({ runId: RUN_1, state: 'open', eventCount: 2 })]);
  });

  it('rebuilds a run the store has as deadline_missed, so late steps can still complete it', () => {
    const s = stitcher();
    s.restore(recovery([ev('trigger', 0), ev('invoice', MIN), ev('unrelated', HOUR, { correlationId: 'clock' })], [{ runId: RUN_1, state: 'deadline_missed', version: 9 }]), T0 + HOUR);
    s.tick(T0 + HOUR);
    expect(s.drain().runs).toEqual([expect.objectContaining({ state: 'deadline_missed' })]);
    s.apply(ev('entitlement', 61 * MIN), T0 + HOUR + MIN);
    expect(s.drain().runs).toEqual([expect.objectContaining({ state: 'completed', deadlineMissed: true })]);
  });

  it('Kafka redelivering what was restored is a duplicate', () => {
    const s = stitcher();
    const events = [ev('trigger', 0), ev('invoice', MIN)];
    s.restore(recovery(events), T0 + 2 * MIN);
    s.drain();
    expect(events.map((e) => s.apply(e, T0 + 2 * MIN))).toEqual([false, false]);
    expect(s.drain()).toEqual({ events: [], runs: [], spans: [], sloOutcomes: [] });
  });

  it('restored steps whose trigger has not arrived are held for it', () => {
    const s = stitcher();
    s.restore(recovery([ev('invoice', MIN), ev('entitlement', 2 * MIN)]), T0 + 3 * MIN);
    expect(s.heldCount()).toBe(2);
    s.apply(ev('trigger', 0), T0 + 3 * MIN);
    expect(s.drain().runs).toEqual([expect.objectContaining({ state: 'completed', eventCount: 3 })]);
  });

  it('seeds the watermark from the store, so a restored run past its deadline is judged at once', () => {
    const s = stitcher();
    s.restore({ events: [ev('trigger', 0)], runs: [], maxEventTime: T0 + HOUR }, T0 + HOUR);
    s.tick(T0 + HOUR);
    expect(s.drain().runs).toEqual([expect.objectContaining({ state: 'deadline_missed', deadlineMissed: true })]);
  });

  it('without a stored event time the watermark starts from the restored events', () => {
    const s = stitcher();
    s.restore({ events: [ev('trigger', 0)], runs: [], maxEventTime: null }, T0 + SEC);
    s.tick(T0 + SEC);
    expect(s.drain().runs).toEqual([expect.objectContaining({ state: 'open' })]);
  });

  it('restoring and then applying gives the same run as applying everything live', () => {
    const stored = [ev('trigger', 0), ev('invoiceFailed', MIN)];
    const fresh = [ev('invoice', 2 * MIN), ev('entitlement', 3 * MIN)];
    const live = stitcher();
    applyLive(live, [...stored, ...fresh]);
    const restored = stitcher();
    restored.restore(recovery(stored), T0 + 90 * SEC);
    applyLive(restored, fresh);
    expect(withoutVersion(restored.drain().runs[0]!)).toEqual(withoutVersion(live.drain().runs[0]!));
  });

  function completedRunEvents() {
    return [ev('trigger', 0), ev('invoice', MIN), ev('entitlement', 2 * MIN)];
  }
});

describe('Stitcher: a lagging partition handed over in a rebalance', () => {
  /**
   * This instance owns partition 0 and has read it up to an hour past T0. A rebalance hands it
   * partition 1, which its previous owner had read only up to T0 + 30s: its run c-1 started at
   * T0 and its steps, a minute later, are still in the backlog.
   */
  function handedOver(): { s: Stitcher; table: RunTable; now: number } {
    const s = stitcher();
    const table = new RunTable();
    const now = T0 + HOUR + 2 * SEC;
    s.apply(ev('trigger', HOUR, { correlationId: 'c-0', partition: 0 }), now);
    s.tick(now);
    table.add(s.drain(now));
    // What IngestPipeline.recover does: the backlog first, then the rebuild from the store.
    s.partitionBacklog('billing.events', 1, true, now);
    s.restore({ events: [ev('trigger', 0, { correlationId: 'c-1', partition: 1 })], runs: [], maxEventTime: T0 + 30 * SEC }, now);
    return { s, table, now };
  }

  it("judges the handed-over partition's runs on its own event time, not the instance's", () => {
    const { s, table, now } = handedOver();
    s.tick(now);
    table.add(s.drain(now));
    expect(table.get('plan-upgrade:c-1')).toMatchObject({ state: 'open', deadlineMissed: false });
  });

  it('a run whose steps are in the backlog completes in time: no deadline_missed row is ever written', () => {
    const { s, now } = handedOver();
    const written: RunRecord[] = [];
    const step = (e: WorkflowEvent, at: number) => {
      s.apply(e, at);
      s.tick(at);
      written.push(...s.drain(at).runs);
    };
    step(ev('invoice', MIN, { correlationId: 'c-1', partition: 1 }), now + 10);
    step(ev('entitlement', 2 * MIN, { correlationId: 'c-1', partition: 1 }), now + 20);
    const c1 = written.filter((r) => r.runId === 'plan-upgrade:c-1');
    expect(c1.map((r) => [r.state, r.deadlineMissed])).toEqual([
      ['open', false],
      ['completed', false],
    ]);
  });

  it('a run of the handed-over partition that really is late is still judged missed, by its own event time', () => {
    const { s, now } = handedOver();
    s.apply(ev('invoice', MIN, { correlationId: 'c-1', partition: 1 }), now + 10);
    s.apply(ev('invoice', 10 * MIN, { correlationId: 'c-other', partition: 1 }), now + 20);
    s.tick(now + 20);
    expect(s.drain(now + 20).runs.find((r) => r.runId === 'plan-upgrade:c-1')).toMatchObject({ state: 'deadline_missed', deadlineMissed: true });
  });

  it("the instance's own partitions keep their event time while the handed-over one catches up", () => {
    const { s, now } = handedOver();
    // A run of partition 0 that started before the hour is due at the instance's watermark.
    s.apply(ev('trigger', 50 * MIN, { correlationId: 'c-0-late', partition: 0 }), now + 10);
    s.tick(now + 10);
    expect(s.drain(now + 10).runs.find((r) => r.runId === 'plan-upgrade:c-0-late')).toMatchObject({ state: 'deadline_missed' });
  });

  it('a run not yet due on its own event time is judged once its partition catches up', () => {
    const { s, now } = handedOver();
    // Due by the instance's watermark (an hour on), not by partition 1's (T0 + 30s).
    s.tick(now);
    s.drain(now);
    s.apply(ev('invoice', 3 * MIN, { correlationId: 'c-other', partition: 1 }), now + 10);
    s.tick(now + 10);
    expect(s.drain(now + 10).runs.find((r) => r.runId === 'plan-upgrade:c-1')).toBeUndefined();
    s.apply(ev('invoice', 6 * MIN, { correlationId: 'c-other', partition: 1 }), now + 20);
    s.tick(now + 20);
    expect(s.drain(now + 20).runs.find((r) => r.runId === 'plan-upgrade:c-1')).toMatchObject({ state: 'deadline_missed', deadlineMissed: true });
  });

  it('the watermark handed to SLO evaluation and detectors waits for the handed-over partition', () => {
    const { s, now } = handedOver();
    expect(s.watermarkAt(now)).toBe(T0 + 30 * SEC);
    s.apply(ev('invoice', MIN, { correlationId: 'c-1', partition: 1 }), now + 10);
    expect(s.watermarkAt(now + 10)).toBe(T0 + MIN);
    // Caught up with the instance: one watermark again.
    s.apply(ev('invoice', HOUR + MIN, { correlationId: 'c-other', partition: 1 }), now + 20);
    s.partitionBacklog('billing.events', 1, false, now + 20);
    expect(s.watermarkAt(now + 20)).toBe(T0 + HOUR);
  });
});

describe('Stitcher: drain', () => {
  it('coalesces many changes of a run into one run row with the latest state', () => {
    const s = stitcher();
    applyLive(s, [ev('trigger', 0), ev('invoiceFailed', 30 * SEC), ev('invoice', MIN), ev('ticket', 90 * SEC), ev('entitlement', 2 * MIN)]);
    expect(s.pendingRows).toBe(5 + 2);
    const output = s.drain();
    expect(output.events).toHaveLength(5);
    expect(output.runs).toEqual([expect.objectContaining({ runId: RUN_1, state: 'completed', eventCount: 5 })]);
    expect(output.spans.map((span) => span.step)).toEqual(['trigger', 'invoice-updated', 'ticket-tagged', 'entitlement-activated']);
    expect(s.drain()).toEqual({ events: [], runs: [], spans: [], sloOutcomes: [] });
    expect(s.pendingRows).toBe(0);
  });

  it('gives each changed run once, and leaves unchanged runs out', () => {
    const s = stitcher();
    applyLive(s, [ev('trigger', 0, { correlationId: 'a' }), ev('trigger', 0, { correlationId: 'b' })]);
    s.drain();
    applyLive(s, [ev('invoice', MIN, { correlationId: 'b' }), ev('entitlement', 2 * MIN, { correlationId: 'b' })]);
    expect(s.drain().runs.map((r) => r.runId)).toEqual(['plan-upgrade:b']);
  });

  it('versions grow with every change of a run: by events seen, then by wall clock', () => {
    const s = stitcher();
    s.apply(ev('trigger', 0), T0 + 5 * SEC);
    const first = s.drain().runs[0]!.version;
    s.apply(ev('invoice', MIN), T0 + 5 * SEC);
    const second = s.drain().runs[0]!.version;
    s.apply(ev('entitlement', 2 * MIN), T0 + 3 * MIN);
    const third = s.drain().runs[0]!.version;
    s.apply(ev('reverted', 4 * MIN), T0 + 3 * MIN);
    const fourth = s.drain().runs[0]!.version;
    expect([first, second, third, fourth]).toEqual([
      progressVersion(1, T0 + 5 * SEC),
      progressVersion(2, T0 + 5 * SEC),
      progressVersion(3, T0 + 3 * MIN),
      progressVersion(4, T0 + 3 * MIN),
    ]);
  });

  it('a deadline passing raises the version though no event arrived', () => {
    const s = stitcher();
    s.apply(ev('trigger', 0), T0);
    const before = s.drain().runs[0]!.version;
    s.tick(T0 + HOUR);
    expect(s.drain().runs[0]!.version).toBe(progressVersion(1, T0 + HOUR));
    expect(progressVersion(1, T0 + HOUR)).toBeGreaterThan(before);
  });

  it('a wall clock stepping back never lowers a run version', () => {
    const s = stitcher();
    s.apply(ev('trigger', 0), T0 + 10 * MIN);
    const before = s.drain().runs[0]!.version;
    s.apply(ev('unrelated', HOUR, { correlationId: 'clock' }), T0 + 5 * MIN);
    s.tick(T0 + 5 * MIN);
    const after = s.drain().runs[0]!;
    expect([after.state, after.version]).toEqual(['deadline_missed', before + 1]);
  });

  it('a row rebuilt from fewer events never outranks a fuller one, whatever the wall clock', () => {
    const full = stitcher();
    applyLive(full, [ev('trigger', 0), ev('invoice', MIN), ev('entitlement', 2 * MIN)]);
    const partial = stitcher();
    partial.apply(ev('trigger', 0), TODAY);
    expect(partial.drain().runs[0]!.version).toBeLessThan(full.drain().runs[0]!.version);
  });

  it('dropPartitions forgets runs of partitions no longer owned, with their pending rows', () => {
    const s = stitcher();
    applyLive(s, [ev('trigger', 0, { correlationId: 'a', partition: 1 }), ev('trigger', 0, { correlationId: 'b', partition: 2 })]);
    expect(s.dropPartitions((p) => p === 2)).toBe(1);
    expect([s.openRuns, s.drain().runs.map((r) => r.runId)]).toEqual([1, ['plan-upgrade:b']]);
  });

  it('a run dropped with its partition is not judged when its deadline passes; one rebuilt under its id is, once', () => {
    const s = stitcher();
    applyLive(s, [ev('trigger', 0, { correlationId: 'a', partition: 1 }), ev('trigger', 0, { correlationId: 'b', partition: 2 })]);
    s.drain();
    s.dropPartitions((p) => p === 2);
    s.apply(ev('unrelated', HOUR, { correlationId: 'clock', partition: 2 }), T0 + HOUR);
    s.tick(T0 + HOUR);
    expect(s.drain(T0 + HOUR).runs.map((r) => [r.runId, r.state])).toEqual([['plan-upgrade:b', 'deadline_missed']]);
    s.partitionBacklog('crm.events', 1, false, T0 + HOUR);
    s.restore({ events: [ev('trigger', 0, { correlationId: 'a', partition: 1 })], runs: [], maxEventTime: T0 + HOUR }, T0 + HOUR);
    s.tick(T0 + HOUR + SEC);
    expect(s.drain(T0 + HOUR + SEC).runs.map((r) => [r.runId, r.state])).toEqual([['plan-upgrade:a', 'deadline_missed']]);
  });

  it('dropPartitions also forgets held steps of partitions no longer owned', () => {
    const s = stitcher();
    applyLive(s, [ev('invoice', MIN, { correlationId: 'a', partition: 1 }), ev('invoice', MIN, { correlationId: 'b', partition: 2 })]);
    s.dropPartitions((p) => p === 2);
    expect(s.heldCount()).toBe(1);
    s.apply(ev('trigger', 0, { correlationId: 'b', partition: 2 }), T0 + 2 * MIN);
    expect(s.drain().runs.map((r) => [r.runId, r.eventCount])).toEqual([['plan-upgrade:b', 2]]);
  });

  it('stateCounts counts the runs in memory by state', () => {
    const s = stitcher();
    applyLive(s, [
      ev('trigger', 0, { correlationId: 'a' }),
      ev('trigger', 0, { correlationId: 'b' }),
      ev('invoiceFailed', MIN, { correlationId: 'b' }),
      ev('trigger', 0, { correlationId: 'c' }),
      ev('reverted', MIN, { correlationId: 'c' }),
    ]);
    expect(s.stateCounts()).toEqual({ open: 1, completed: 0, failed: 1, deadline_missed: 0, compensated: 1 });
  });
});

describe('Stitcher: spans', () => {
  const byStep = (spans: SpanRecord[]) => Object.fromEntries(spans.map((s) => [s.step, [s.startAt - T0, s.endAt - T0, s.status]]));

  it('an open run writes no spans yet; its verdict writes them all, the trigger as a zero-length span', () => {
    const s = stitcher();
    s.apply(ev('trigger', 0), T0);
    s.apply(ev('invoice', MIN), T0 + MIN);
    expect(s.drain().spans).toEqual([]);
    s.apply(ev('entitlement', 2 * MIN), T0 + 2 * MIN);
    const spans = s.drain().spans;
    expect(byStep(spans)).toEqual({ trigger: [0, 0, 'done'], 'invoice-updated': [0, MIN, 'done'], 'entitlement-activated': [MIN, 2 * MIN, 'done'] });
    expect(spans[0]).toEqual({
      runId: RUN_1,
      workflow: 'plan-upgrade',
      correlationId: 'corr-1',
      step: 'trigger',
      kind: 'trigger',
      status: 'done',
      source: 'crm',
      eventId: 'trigger-corr-1-0',
      startAt: T0,
      endAt: T0,
      sinceTriggerMs: 0,
      runStartedAt: T0,
      errorCode: '',
      errorClass: '',
      version: progressVersion(3, T0 + 2 * MIN),
    });
  });

  it('each step spans from the previous step in event order, and only changed spans are written again', () => {
    const s = stitcher();
    applyLive(s, [ev('trigger', 0), ev('invoice', MIN), ev('ticket', 3 * MIN)]);
    expect(s.drain().spans).toEqual([]);
    // The entitlement happened at 2m but arrives last: it slots in before the ticket.
    s.apply(ev('entitlement', 2 * MIN), T0 + 4 * MIN);
    expect(byStep(s.drain().spans)).toEqual({
      trigger: [0, 0, 'done'],
      'invoice-updated': [0, MIN, 'done'],
      'entitlement-activated': [MIN, 2 * MIN, 'done'],
      'ticket-tagged': [2 * MIN, 3 * MIN, 'done'],
    });
    s.apply(ev('reverted', 5 * MIN), T0 + 5 * MIN);
    expect(byStep(s.drain().spans)).toEqual({ 'upgrade-reverted': [3 * MIN, 5 * MIN, 'done'] });
  });

  it('a step span carries sinceTriggerMs, source, event id and the run version', () => {
    const s = stitcher();
    s.apply(ev('trigger', 0), T0);
    s.apply(ev('entitlement', 60 * SEC), T0 + MIN);
    s.drain();
    s.apply(ev('invoice', 90 * SEC), T0 + 2 * MIN);
    expect(s.drain().spans.find((span) => span.step === 'invoice-updated')).toEqual(
      expect.objectContaining({ step: 'invoice-updated', kind: 'step', source: 'billing', eventId: 'invoice-corr-1-90000', sinceTriggerMs: 90 * SEC, runStartedAt: T0, version: progressVersion(3, T0 + 2 * MIN) }),
    );
  });

  it('a failed step gives a failed span with the error, kept current when the step heals', () => {
    const s = stitcher();
    s.apply(ev('trigger', 0), T0);
    s.apply(ev('invoiceFailed', MIN, { error: { code: '429', class: 'rate-limited', message: 'slow down' } }), T0 + MIN);
    const failed = s.drain().spans.find((span) => span.step === 'invoice-updated')!;
    expect([failed.status, failed.errorCode, failed.errorClass]).toEqual(['failed', '429', 'rate-limited']);
    // Healed: the run is open again, but a run that has written spans keeps them current.
    s.apply(ev('invoice', 2 * MIN), T0 + 2 * MIN);
    const output = s.drain();
    expect(output.runs.map((r) => r.state)).toEqual(['open']);
    expect(output.spans).toEqual([expect.objectContaining({ step: 'invoice-updated', status: 'done', startAt: T0, endAt: T0 + 2 * MIN, errorCode: '', errorClass: '' })]);
  });

  it('a compensation gives a compensation span', () => {
    const s = stitcher();
    applyLive(s, [ev('trigger', 0), ev('reverted', MIN)]);
    expect(s.drain().spans.map((span) => [span.step, span.kind])).toEqual([
      ['trigger', 'trigger'],
      ['upgrade-reverted', 'compensation'],
    ]);
  });

  it('a step whose event time is before the trigger (clock skew) starts and ends at its own time', () => {
    const s = stitcher();
    applyLive(s, [ev('trigger', 0), ev('invoice', -10 * SEC), ev('entitlement', 20 * SEC)]);
    expect(byStep(s.drain().spans)).toEqual({ trigger: [0, 0, 'done'], 'invoice-updated': [-10 * SEC, -10 * SEC, 'done'], 'entitlement-activated': [0, 20 * SEC, 'done'] });
  });

  it('a deadline passing is a verdict: the run and its spans so far are written', () => {
    const s = stitcher();
    s.apply(ev('trigger', 0), T0);
    expect(s.drain().spans).toEqual([]);
    s.tick(T0 + HOUR);
    const output = s.drain();
    expect([output.runs.map((r) => r.state), output.spans.map((span) => span.step)]).toEqual([['deadline_missed'], ['trigger']]);
    s.tick(T0 + 2 * HOUR);
    expect(s.drain()).toEqual({ events: [], runs: [], spans: [], sloOutcomes: [] });
  });
});


describe('Stitcher: the tick is cheap when nothing is due', () => {
  it('judges a due deadline at the next tick, however recent the last sweep', () => {
    const s = stitcher({ sweepEvery: 5 * SEC });
    applyLive(s, [ev('trigger', 0)]);
    s.tick(T0 + SEC);
    s.drain();
    s.apply(ev('unrelated', HOUR, { correlationId: 'clock' }), T0 + SEC + 100);
    s.tick(T0 + SEC + 200);
    expect(s.drain().runs.map((r) => r.state)).toEqual(['deadline_missed']);
  });

  it('a tick looks only at the runs that came due, not at every open run', () => {
    const s = stitcher();
    // One run started long before, then 1 000 in the last minute, due minutes from now.
    s.apply(ev('trigger', 50 * MIN, { correlationId: 'old' }), T0 + HOUR + MIN);
    for (let i = 0; i < 1_000; i++) s.apply(ev('trigger', HOUR + i * 50, { correlationId: `c-${i}` }), T0 + HOUR + MIN);
    s.drain(T0 + HOUR + MIN);
    const before = s.counters.runsVisited;
    s.tick(T0 + HOUR + MIN);
    expect(s.counters.runsVisited - before).toBe(1);
    expect(s.drain(T0 + HOUR + MIN).runs.map((r) => [r.correlationId, r.state])).toEqual([['old', 'deadline_missed']]);
    s.tick(T0 + HOUR + MIN + SEC);
    expect(s.counters.runsVisited - before).toBe(1);
  });

  it('forgets old runs at a tick where a deadline came due, as the sweep over every run did, without waiting for sweepEvery', () => {
    const s = stitcher({ sweepEvery: 5 * SEC });
    applyLive(s, [ev('trigger', 0), ev('invoice', MIN), ev('entitlement', 2 * MIN)]);
    s.tick(T0 + 3 * MIN);
    s.drain();
    s.apply(ev('trigger', 50 * MIN, { correlationId: 'late' }), T0 + 3 * MIN + 100);
    s.apply(ev('unrelated', HOUR, { correlationId: 'clock' }), T0 + 3 * MIN + 500);
    s.tick(T0 + 3 * MIN + 600);
    expect([s.run(RUN_1), s.run('plan-upgrade:late')?.state]).toEqual([undefined, 'deadline_missed']);
  });

  it('looks over old runs only every sweepEvery of wall time when no deadline is due', () => {
    const s = stitcher({ sweepEvery: 5 * SEC });
    applyLive(s, [ev('trigger', 0), ev('invoice', MIN), ev('entitlement', 2 * MIN)]);
    s.tick(T0 + 3 * MIN);
    s.drain();
    s.apply(ev('unrelated', HOUR, { correlationId: 'clock' }), T0 + 3 * MIN + 500);
    s.tick(T0 + 3 * MIN + 600);
    expect(s.openRuns).toBe(1);
    s.tick(T0 + 3 * MIN + 5 * SEC);
    expect(s.openRuns).toBe(0);
  });
});
