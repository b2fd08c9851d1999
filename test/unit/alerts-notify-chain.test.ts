import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildNotifyChain, runChain, type NotifyContext, type NotifyStage } from '../../src/alerts/notify/index.ts';
import { DedupStage } from '../../src/alerts/notify/dedup-stage.ts';
import { InMemoryNotificationLog } from '../../src/alerts/notify/notification-log.ts';
import type { DeliveryReport, Notification, Receiver } from '../../src/alerts/notify/receiver.ts';
import { ReceiverStage } from '../../src/alerts/notify/receiver-stage.ts';
import { RecordStage } from '../../src/alerts/notify/record-stage.ts';
import { notifyFlush } from '../../src/alerts/notify/chain.ts';
import { dispatch, EMPTY_DISPATCH, requeueUndelivered, type DispatchState } from '../../src/alerts/routing/grouping.ts';
import { validateAlertRouting, type AlertRouting } from '../../src/alerts/routing/validate.ts';
import { createSilence, expireSilence } from '../../src/alerts/silences/silence-book.ts';
import type { Silence } from '../../src/alerts/silences/silence.ts';
import type { Alert } from '../../src/alerts/types.ts';

const at = (clock: string) => Date.parse(`2026-03-02T${clock}Z`);
const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** A receiver that writes down what it was told, and refuses everything while down. */
class RecordingReceiver implements Receiver {
  readonly name: string;
  down = false;
  private readonly sends: string[];

  constructor(name: string, sends: string[]) {
    this.name = name;
    this.sends = sends;
  }

  async notify(n: Notification): Promise<DeliveryReport> {
    const ids = (alerts: readonly Alert[]) => alerts.map((a) => a.fingerprint).join(',');
    this.sends.push(`${clock(n.at)} ${n.receiver} ${n.reason} firing=[${ids(n.firing)}] resolved=[${ids(n.resolved)}]${this.down ? ' FAILED' : ''}`);
    return { failed: this.down ? [...n.firing, ...n.resolved].map((a) => ({ fingerprint: a.fingerprint, reason: '503 Service Unavailable' })) : [] };
  }
}

interface Event {
  at: string;
  fire?: string[];
  resolve?: string[];
  silence?: { id: string; matchers: string; until: string };
  expire?: string;
  restart?: boolean;
  receiver_down?: string;
  receiver_up?: string;
}

interface Scenario {
  name: string;
  events: Event[];
  until: string;
  sends: string[];
}

interface Fixture {
  receivers: string[];
  config: unknown;
  alerts: Record<string, Record<string, string>>;
  scenarios: Scenario[];
}

/**
 * Plays a scenario as the alert lifecycle will: the lifecycle holds the newest version of each
 * alert; the dispatcher is called with changed alerts at events and with none at its wake-ups;
 * each flush runs through the chain; a refused resolve goes back to its group. A restart loses
 * the dispatcher's groups but keeps the notification log and silences (they are persisted), and
 * the lifecycle hands every alert it holds to the dispatcher again.
 */
async function play(fixture: Fixture, routing: AlertRouting, scenario: Scenario): Promise<string[]> {
  const sends: string[] = [];
  const receivers = new Map(fixture.receivers.map((name) => [name, new RecordingReceiver(name, sends)]));
  const held = new Map<string, Alert>();
  let silences: Silence[] = [];
  const log = new InMemoryNotificationLog();
  const stages = buildNotifyChain({
    inhibitRules: routing.inhibitRules,
    currentAlerts: () => [...held.values()],
    silences: () => silences,
    timeIntervals: routing.timeIntervals,
    log,
    receivers: [...receivers.values()],
  });
  let state: DispatchState = EMPTY_DISPATCH;
  let wake: number | undefined;
  const events = [...scenario.events];
  const until = at(scenario.until);

  for (;;) {
    const nextEvent = events[0] ? at(events[0].at) : Infinity;
    const now = Math.min(nextEvent, wake ?? Infinity);
    if (now > until) break;
    const changed: Alert[] = [];
    while (events[0] && at(events[0].at) === now) {
      const event = events.shift()!;
      for (const id of event.fire ?? []) {
        const alert: Alert = { fingerprint: id, labels: fixture.alerts[id]!, annotations: {}, state: 'firing', startsAt: now, endsAt: 0, generatorUrl: '' };
        held.set(id, alert);
        changed.push(alert);
      }
      for (const id of event.resolve ?? []) {
        const alert: Alert = { ...held.get(id)!, state: 'resolved', endsAt: now };
        held.set(id, alert);
        changed.push(alert);
      }
      if (event.silence) {
        const result = createSilence(silences, { matchers: event.silence.matchers, endsAt: at(event.silence.until), createdBy: 'test', comment: scenario.name }, now, event.silence.id);
        if (!result.ok) throw new Error(result.problems.join('; '));
        silences = result.silences;
      }
      if (event.expire) {
        const result = expireSilence(silences, event.expire, now);
        if (!result.ok) throw new Error(result.problems.join('; '));
        silences = result.silences;
      }
      if (event.restart) {
        state = EMPTY_DISPATCH;
        changed.push(...held.values());
      }
      if (event.receiver_down) receivers.get(event.receiver_down)!.down = true;
      if (event.receiver_up) receivers.get(event.receiver_up)!.down = false;
    }
    const step = dispatch(state, routing.tree, changed, now);
    state = step.state;
    for (const flush of step.flushes) {
      const result = await notifyFlush(stages, flush, now);
      const failed = result.ctx.delivery?.failed.map((f) => f.alert) ?? [];
      state = requeueUndelivered(state, flush, failed, now);
    }
    wake = Object.values(state.groups).reduce<number | undefined>((min, g) => Math.min(min ?? Infinity, g.group.flushAt), undefined);
  }
  return sends;
}

describe('the notify path, end to end', () => {
  const fixture = parse(readFileSync(new URL('../fixtures/alerts/notify-scenarios.yaml', import.meta.url), 'utf8')) as Fixture;
  const validated = validateAlertRouting(fixture.config, fixture.receivers);
  if (!validated.ok) throw new Error(validated.problems.join('\n'));

  it.each(fixture.scenarios.map((s) => [s.name, s] as const))('%s', async (_name, scenario) => {
    expect(await play(fixture, validated.routing, scenario)).toEqual(scenario.sends);
  });
});

const alert = (fingerprint: string, state: Alert['state'], labels: Record<string, string> = { team: 'billing' }): Alert => ({
  fingerprint,
  labels,
  annotations: {},
  state,
  startsAt: at('09:00:00'),
  endsAt: state === 'resolved' ? at('09:30:00') : 0,
  generatorUrl: '',
});

const context = (overrides: Partial<NotifyContext> = {}): NotifyContext => ({
  now: at('10:00:00'),
  groupKey: 'g',
  groupLabels: { team: 'billing' },
  receiver: 'pager',
  repeatIntervalMs: 3_600_000,
  muteTimeIntervals: [],
  activeTimeIntervals: [],
  flushReason: 'group_interval',
  ...overrides,
});

/** A stage that keeps the alerts whose fingerprint it is given, and says so. */
const keep = (name: string, ...fingerprints: string[]): NotifyStage => ({
  name,
  exec: (ctx, alerts) => ({ ctx, alerts: alerts.filter((a) => fingerprints.includes(a.fingerprint)), note: `kept ${fingerprints.join(',') || 'nothing'}` }),
});

describe('runChain', () => {
  it('runs the stages in order, each on what the one before passed on', async () => {
    const result = await runChain([keep('one', 'A', 'B'), keep('two', 'B', 'C')], context(), [alert('A', 'firing'), alert('B', 'firing'), alert('C', 'firing')]);
    expect([result.alerts.map((a) => a.fingerprint), result.stoppedAt, result.notes]).toEqual([['B'], undefined, { one: 'kept A,B', two: 'kept B,C' }]);
  });

  it('stops at the first stage that leaves nothing, and later stages never run', async () => {
    let ran = false;
    const spy: NotifyStage = { name: 'spy', exec: (ctx, alerts) => ((ran = true), { ctx, alerts }) };
    const result = await runChain([keep('one'), spy], context(), [alert('A', 'firing')]);
    expect([result.stoppedAt, result.alerts, ran]).toEqual(['one', [], false]);
  });
});

describe('the stages around the receiver', () => {
  const firing = alert('A', 'firing');
  const paged = alert('P', 'resolved');
  const neverPaged = alert('N', 'resolved');

  function pipeline(report: (n: Notification) => Promise<DeliveryReport>) {
    const log = new InMemoryNotificationLog();
    log.record('pager', 'earlier-group', { firing: ['P'], resolved: [] }, at('08:00:00'));
    const told: Notification[] = [];
    const receiver: Receiver = { name: 'pager', notify: (n) => (told.push(n), report(n)) };
    return { log, told, stages: [new DedupStage(log), new ReceiverStage([receiver]), new RecordStage(log)] };
  }

  it('tells the receiver the firing alerts and the resolves it is owed, not resolves it never heard of', async () => {
    const { log, told, stages } = pipeline(async () => ({ failed: [] }));
    const result = await runChain(stages, context(), [firing, paged, neverPaged]);
    expect(told.map((n) => [n.reason, n.firing.map((a) => a.fingerprint), n.resolved.map((a) => a.fingerprint)])).toEqual([['first_notification', ['A'], ['P']]]);
    expect([result.stoppedAt, result.notes]).toEqual([undefined, { dedup: 'first_notification' }]);
    expect([log.entry('pager', 'g'), log.isOpen('pager', 'A'), log.isOpen('pager', 'P')]).toEqual([{ firing: ['A'], resolved: ['P'], sentAt: at('10:00:00') }, true, false]);
  });

  it('records only what the receiver took', async () => {
    const { log, stages } = pipeline(async () => ({ failed: [{ fingerprint: 'P', reason: '429 Too Many Requests' }] }));
    const result = await runChain(stages, context(), [firing, paged]);
    expect(result.ctx.delivery?.failed.map((f) => [f.alert.fingerprint, f.reason])).toEqual([['P', '429 Too Many Requests']]);
    expect(result.notes).toEqual({ dedup: 'first_notification', receiver: '1 not delivered' });
    // P is still owed; A is open now.
    expect([log.entry('pager', 'g'), log.isOpen('pager', 'A'), log.isOpen('pager', 'P')]).toEqual([{ firing: ['A'], resolved: [], sentAt: at('10:00:00') }, true, true]);
  });

  it('counts a receiver that throws as refusing everything, and records nothing', async () => {
    const { log, stages } = pipeline(async () => {
      throw new Error('socket hang up');
    });
    const result = await runChain(stages, context(), [firing]);
    expect([result.stoppedAt, result.ctx.delivery?.failed.map((f) => f.reason), log.entry('pager', 'g')]).toEqual(['receiver', ['socket hang up'], undefined]);
  });

  it('refuses everything for a receiver it does not know', async () => {
    const log = new InMemoryNotificationLog();
    const result = await runChain([new DedupStage(log), new ReceiverStage([]), new RecordStage(log)], context({ receiver: 'pagr' }), [firing]);
    expect([result.stoppedAt, result.ctx.delivery?.failed.map((f) => f.reason)]).toEqual(['receiver', ['no receiver "pagr"']]);
  });

  it('stops at dedup with the reason when the receiver needs nothing', async () => {
    const { stages } = pipeline(async () => ({ failed: [] }));
    const result = await runChain(stages, context(), [neverPaged]);
    expect([result.stoppedAt, result.notes, result.ctx.dedup]).toEqual(['dedup', { dedup: 'nothing_firing' }, { send: false, reason: 'nothing_firing' }]);
  });
});

describe('the muting stages', () => {
  const routing = validateAlertRouting(
    {
      routes: { receiver: 'pager' },
      inhibit_rules: [{ source_matchers: ['detector="slo-burn"'], target_matchers: ['detector="missed-deadline"'], equal: ['workflow'] }],
      time_intervals: [{ name: 'mornings', time_intervals: [{ times: [{ start_time: '06:00', end_time: '12:00' }] }] }],
    },
    ['pager'],
  );
  if (!routing.ok) throw new Error(routing.problems.join('\n'));
  const deadline = (fp: string, state: Alert['state']) => alert(fp, state, { team: 'billing', workflow: 'plan-upgrade', detector: 'missed-deadline' });
  const slo = alert('S', 'firing', { team: 'billing', workflow: 'plan-upgrade', detector: 'slo-burn' });
  const [inhibit, silence, maintenance] = buildNotifyChain({
    inhibitRules: routing.routing.inhibitRules,
    currentAlerts: () => [slo],
    silences: () => createSilenceFor('team="billing"'),
    timeIntervals: routing.routing.timeIntervals,
    log: new InMemoryNotificationLog(),
    receivers: [],
  }) as [NotifyStage, NotifyStage, NotifyStage];

  function createSilenceFor(matchers: string): Silence[] {
    const result = createSilence([], { matchers, startsAt: at('09:00:00'), endsAt: at('11:00:00'), createdBy: 't', comment: 'c' }, at('09:00:00'), 's');
    return result.ok ? result.silences : [];
  }

  it.each<[string, NotifyStage, NotifyContext, string[], string | undefined]>([
    ['inhibit holds back the firing target, passes the resolved one', inhibit, context(), ['R'], '1 inhibited'],
    ['silence holds back firing alerts while active', silence, context(), ['R'], '1 silenced'],
    ['silence lets everything through once expired', silence, context({ now: at('11:00:00') }), ['F', 'R'], undefined],
    ['maintenance holds back firing alerts while a mute interval is active', maintenance, context({ muteTimeIntervals: ['mornings'] }), ['R'], '1 muted by a time interval'],
    ['maintenance lets everything through outside the mute interval', maintenance, context({ now: at('12:00:00'), muteTimeIntervals: ['mornings'] }), ['F', 'R'], undefined],
    ['an active interval mutes outside itself', maintenance, context({ now: at('12:00:00'), activeTimeIntervals: ['mornings'] }), ['R'], '1 muted by a time interval'],
    ['an active interval lets everything through inside itself', maintenance, context({ activeTimeIntervals: ['mornings'] }), ['F', 'R'], undefined],
  ])('%s', async (_name, stage, ctx, passed, note) => {
    const result = await stage.exec(ctx, [deadline('F', 'firing'), deadline('R', 'resolved')]);
    expect([result.alerts.map((a) => a.fingerprint), result.note]).toEqual([passed, note]);
  });
});
