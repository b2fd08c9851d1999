import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { InhibitRule } from './inhibit/inhibit.ts';
import type { AlertChange } from './lifecycle/alert-book.ts';
import { buildNotifyChain } from './notify/index.ts';
import { notifyFlush } from './notify/chain.ts';
import { InMemoryNotificationLog, type NotificationLog } from './notify/notification-log.ts';
import type { NotifyStage } from './notify/stage.ts';
import { isStormAlert, type StormOptions } from './notify/storm.ts';
import type { ClearElsewhere } from './notify/storm-stage.ts';
import type { ManagedReceiver } from './receivers/managed-receiver.ts';
import { dispatch, EMPTY_DISPATCH, requeueUndelivered, withoutAlerts, type DispatchState, type GroupFlush } from './routing/grouping.ts';
import type { RoutingTree } from './routing/tree.ts';
import type { Silence } from './silences/silence.ts';
import type { MaintenanceWindow } from './time-intervals/time-interval.ts';
import type { Alert } from './types.ts';
import type { PagingPause } from '../domain/controls.ts';

export interface AlertDispatcherOptions {
  tree: RoutingTree;
  receivers: readonly ManagedReceiver[];
  inhibitRules: readonly InhibitRule[];
  timeIntervals: readonly MaintenanceWindow[];
  /** The silences now (e.g. `() => registry.list()` of a SilenceRegistry), read at each flush; none by default. */
  silences?: () => readonly Silence[];
  /** The paging pauses now (the operator's kill switch), read at each flush; none by default. */
  pauses?: () => readonly PagingPause[];
  /**
   * Firing alerts another instance of the group pages (the SLO lead's burn alerts), as inhibition
   * sources beside this dispatcher's own: an inhibit rule whose source is a burn alert mutes its
   * targets at every instance, not only at the lead.
   */
  othersFiring?: () => readonly Alert[];
  /** What each receiver was told; in memory until it is persisted. */
  log?: NotificationLog;
  registry: Registry;
  logger: Logger;
  /** Wall clock: grouping timers and repeat intervals run in real time, not event time. */
  now?: () => number;
  /** Receivers that turn many alerts of one detector and workflow into one incident (PagerDuty's `storm`). */
  storms?: ReadonlyMap<string, StormOptions>;
  /** The alerts list storm incidents link to. */
  alertsUrl?: string;
  /**
   * Whether this instance sees every alert (it holds every partition of its consumer group), so
   * that a storm it finds clear may be resolved; always by default (see notify/storm.ts).
   */
  stormsMayResolve?: () => boolean;
  /**
   * For an instance that does not see every alert: which storm buckets no other instance has
   * alerts of firing (read from the store), so that a storm over there too is resolved. Without
   * it, such a storm stays open until one instance holds every partition again.
   */
  stormsClearElsewhere?: ClearElsewhere;
  /** How long apart the others are asked twice before a storm is resolved on their word (3 s). */
  stormsConfirmClearAfterMs?: number;
  /** How long shutdown() waits for notifications in flight before stopping the receivers. Default 10 s. */
  shutdownTimeoutMs?: number;
}

export type DispatcherState = 'initialized' | 'running' | 'stopping' | 'stopped';

const OUTCOMES = ['delivered', 'failed', 'refused', 'muted', 'paused', 'unchanged'] as const;

/**
 * The notification path, driven: takes alert changes from the alert engine, routes them into
 * aggregation groups (routing/grouping.ts, on the wall clock), runs each group flush through the
 * notify chain (inhibit → silence → maintenance → dedup → receiver → record) and wakes itself when
 * the next group is due. A trigger that was not delivered is sent again at the group's next flush
 * (it is not in the notification log); a resolve is given back to its group.
 *
 * One flush per group at a time: a group due again while its last notification is still being
 * delivered (a receiver retrying) waits for the following flush, so a slow receiver is never
 * told the same thing twice at once.
 */
export class AlertDispatcher {
  private readonly options: AlertDispatcherOptions;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly stages: NotifyStage[];
  /** Firing alerts by fingerprint: inhibition sources. */
  private readonly firing = new Map<string, Alert>();
  /** Changes not yet dispatched (newest version of each). */
  private readonly arrivals = new Map<string, Alert>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly notifications: Counter<'receiver' | 'outcome'>;
  private state: DispatchState = EMPTY_DISPATCH;
  private current: DispatcherState = 'initialized';
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private stopping: Promise<void> | undefined;
  private ignoredAfterStop = 0;
  /** Storms whose held resolve was logged already (once each). */
  private readonly heldStorms = new Set<string>();

  constructor(options: AlertDispatcherOptions) {
    this.options = options;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.stages = buildNotifyChain({
      inhibitRules: options.inhibitRules,
      currentAlerts: () => (options.othersFiring ? [...this.firing.values(), ...options.othersFiring()] : [...this.firing.values()]),
      silences: options.silences ?? (() => []),
      timeIntervals: options.timeIntervals,
      log: options.log ?? new InMemoryNotificationLog(),
      receivers: options.receivers,
      ...(options.storms ? { storms: options.storms } : {}),
      ...(options.alertsUrl ? { alertsUrl: options.alertsUrl } : {}),
      ...(options.pauses ? { pauses: options.pauses } : {}),
      stormHooks: {
        ...(options.stormsMayResolve ? { seesEveryAlert: options.stormsMayResolve } : {}),
        ...(options.stormsClearElsewhere ? { clearElsewhere: options.stormsClearElsewhere } : {}),
        ...(options.stormsConfirmClearAfterMs !== undefined ? { confirmClearAfterMs: options.stormsConfirmClearAfterMs } : {}),
        onHeld: (storms, ctx) => {
          const fresh = storms.map((h) => h.key).filter((key) => !this.heldStorms.has(key));
          if (fresh.length === 0) return;
          for (const key of fresh) this.heldStorms.add(key);
          this.logger.warn(
            { receiver: ctx.receiver, groupKey: ctx.groupKey, storms: fresh },
            options.stormsClearElsewhere
              ? 'storm clear here, but other instances of the consumer group still have alerts it covers firing (or their state could not be read): its resolve is held and asked again at each flush of the group'
              : 'storm clear here, but other instances share the consumer group and may still have alerts it covers: its resolve is held until one instance holds every partition; or resolve the incident by hand once no instance lists them firing',
          );
        },
        onClearElsewhere: (storms, ctx) => {
          this.logger.info({ receiver: ctx.receiver, groupKey: ctx.groupKey, storms }, 'storm clear here and, as the store has their alert state, at the other instances of the consumer group: resolved');
        },
      },
    });
    this.notifications = new Counter({
      name: 'seamwatch_notifications_total',
      help: 'Alerts in group flushes, by receiver and outcome: delivered, failed (sent again later), refused (the receiver rejected it: a 4xx, not sent again), muted (inhibited, silenced or in a muted time interval), paused (held by a paging pause: the operator\'s kill switch), unchanged (nothing new for the receiver: told already, or a resolve it is not owed).',
      labelNames: ['receiver', 'outcome'],
      registers: [options.registry],
    });
    for (const receiver of options.receivers) for (const outcome of OUTCOMES) this.notifications.inc({ receiver: receiver.name, outcome }, 0);
  }

  get lifecycle(): DispatcherState {
    return this.current;
  }

  /** Starts the receivers; alert changes taken before this are dispatched now. */
  async start(): Promise<void> {
    if (this.current === 'running') return;
    if (this.current !== 'initialized') throw new Error('alert dispatcher cannot start after shutdown');
    await Promise.all(this.options.receivers.map((r) => r.start()));
    this.current = 'running';
    this.logger.info({ receivers: this.options.receivers.map((r) => r.name) }, 'alert dispatcher started');
    this.schedule();
  }

  /** For AlertEngine's onChange: firing and resolved alerts are routed; pending and dropped ones never notify. */
  readonly take = (change: AlertChange): void => {
    if (change.kind !== 'firing' && change.kind !== 'resolved') return;
    if (this.current === 'stopping' || this.current === 'stopped') {
      if (this.ignoredAfterStop++ === 0) this.logger.warn({ fingerprint: change.alert.fingerprint, kind: change.kind }, 'alert dispatcher stopped: alert changes are no longer notified');
      return;
    }
    const alert = change.alert;
    if (alert.state === 'firing') this.firing.set(alert.fingerprint, alert);
    else this.firing.delete(alert.fingerprint);
    this.arrivals.set(alert.fingerprint, alert);
    this.schedule();
  };

  /**
   * After a restart, hands the restored alerts back to their groups, so that nothing owed is
   * lost with the groups and timers that lived only in memory: a firing alert is routed again
   * (the notification log keeps one already delivered from being sent twice; one that never got
   * out is sent), and a resolved alert that a receiver still has open (or that a storm still open
   * there covered) gets its resolve. Call it once, after the alert state is loaded and before
   * intake starts.
   */
  reconcile(alerts: readonly Alert[], stillOpen: (alert: Alert) => boolean): { firing: number; resolves: number } {
    let firing = 0;
    let resolves = 0;
    for (const alert of alerts) {
      if (alert.state === 'firing') {
        firing++;
        this.take({ kind: 'firing', alert });
      } else if (alert.state === 'resolved' && stillOpen(alert)) {
        resolves++;
        this.take({ kind: 'resolved', alert });
      }
    }
    if (firing + resolves > 0) this.logger.info({ firing, resolves }, 'restored alerts handed back to their groups');
    return { firing, resolves };
  }

  /**
   * Forgets alerts another instance owns now (their partition moved): they leave their groups
   * and are no longer inhibition sources, so this instance never triggers or resolves them.
   */
  forget(fingerprints: ReadonlySet<string>): void {
    if (fingerprints.size === 0) return;
    for (const fingerprint of fingerprints) {
      this.arrivals.delete(fingerprint);
      this.firing.delete(fingerprint);
    }
    this.state = withoutAlerts(this.state, fingerprints);
  }

  /** Idempotent, safe before start(): stops intake and the timer, waits for notifications in flight (within the deadline), stops the receivers. */
  shutdown(): Promise<void> {
    this.stopping ??= this.stop();
    return this.stopping;
  }

  private async stop(): Promise<void> {
    const was = this.current;
    this.current = 'stopping';
    clearTimeout(this.timer);
    this.timer = undefined;
    if (was === 'running' && this.inFlight.size > 0) {
      let deadline: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        deadline = setTimeout(() => resolve(true), this.options.shutdownTimeoutMs ?? 10_000);
        deadline.unref();
      });
      const late = await Promise.race([Promise.all(this.inFlight.values()).then(() => false), timedOut]);
      clearTimeout(deadline);
      if (late) this.logger.warn({ inFlight: this.inFlight.size }, 'alert dispatcher: notifications still in flight at the shutdown deadline');
    }
    const results = await Promise.allSettled(this.options.receivers.map((r) => r.shutdown()));
    this.current = 'stopped';
    const groups = Object.keys(this.state.groups).length;
    this.logger.info({ groups, undispatched: this.arrivals.size, ignoredAfterStop: this.ignoredAfterStop }, 'alert dispatcher stopped');
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (errors.length > 0) throw new AggregateError(errors, 'alert receivers did not stop cleanly');
  }

  /** Batches the changes of one turn of the event loop into one dispatch. */
  private schedule(): void {
    if (this.current !== 'running' || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.step();
    });
  }

  private step(): void {
    if (this.current !== 'running') return;
    const now = this.now();
    const arrivals = [...this.arrivals.values()];
    this.arrivals.clear();
    const step = dispatch(this.state, this.options.tree, arrivals, now);
    this.state = step.state;
    for (const flush of step.flushes) {
      if (this.inFlight.has(flush.groupKey)) {
        // Its alerts are still in the group; only resolves were handed out and must go back.
        this.state = requeueUndelivered(this.state, flush, flush.alerts, now);
        continue;
      }
      const done = this.notify(flush, now).finally(() => {
        this.inFlight.delete(flush.groupKey);
        this.wakeAtNextFlush();
      });
      this.inFlight.set(flush.groupKey, done);
    }
    this.wakeAtNextFlush();
  }

  private async notify(flush: GroupFlush, now: number): Promise<void> {
    const context = { receiver: flush.receiver, groupKey: flush.groupKey, reason: flush.reason };
    let failed: Alert[] = [];
    let held: readonly Alert[] = [];
    try {
      const result = await notifyFlush(this.stages, flush, now);
      held = result.ctx.heldStorms ?? [];
      const delivery = result.ctx.delivery;
      failed = delivery?.failed.map((f) => f.alert) ?? [];
      // A storm told anything (joined, or resolved) is no longer held: a later hold is logged again.
      for (const alert of delivery?.delivered ?? []) if (isStormAlert(alert)) this.heldStorms.delete(alert.fingerprint);
      // A storm alert stands for the alerts it covers: they are what is counted.
      const covered = (alerts: readonly Alert[]) => alerts.reduce((n, a) => n + (isStormAlert(a) ? (result.ctx.storm?.[a.fingerprint]?.length ?? 0) : 1), 0);
      const delivered = covered(delivery?.delivered ?? []);
      const refused = delivery?.refused ?? [];
      this.notifications.inc({ receiver: flush.receiver, outcome: 'delivered' }, delivered);
      this.notifications.inc({ receiver: flush.receiver, outcome: 'failed' }, covered(failed));
      this.notifications.inc({ receiver: flush.receiver, outcome: 'refused' }, covered(refused.map((r) => r.alert)));
      const muted = result.ctx.muted ?? 0;
      const paused = result.ctx.paused ?? 0;
      this.notifications.inc({ receiver: flush.receiver, outcome: 'muted' }, muted);
      this.notifications.inc({ receiver: flush.receiver, outcome: 'paused' }, paused);
      this.notifications.inc({ receiver: flush.receiver, outcome: 'unchanged' }, Math.max(0, flush.alerts.length - delivered - covered(failed) - covered(refused.map((r) => r.alert)) - muted - paused));
      if (paused > 0) this.logger.debug({ ...context, paused }, 'notification held: paging paused');
      if (refused.length > 0) {
        this.logger.error({ ...context, refused: refused.length, reasons: [...new Set(refused.map((f) => f.reason))] }, 'receiver refused the notification: not sent again');
      }
      if (failed.length > 0) {
        this.logger.warn({ ...context, failed: failed.length, reasons: [...new Set(delivery!.failed.map((f) => f.reason))] }, 'notification not delivered: sent again at the next flush');
      } else if (delivered > 0) {
        this.logger.info({ ...context, firing: delivery!.delivered.filter((a) => a.state === 'firing').length, resolved: delivery!.delivered.filter((a) => a.state === 'resolved').length }, 'notification delivered');
      }
    } catch (error) {
      failed = flush.alerts;
      this.notifications.inc({ receiver: flush.receiver, outcome: 'failed' }, failed.length);
      this.logger.error({ ...context, err: error }, 'notify chain failed: sent again at the next flush');
    }
    if (failed.length > 0 && this.current === 'running') this.state = requeueUndelivered(this.state, flush, failed, this.now());
    // A storm resolve held back goes back to its group: the group's next flush asks again.
    if (held.length > 0 && this.current === 'running') this.state = requeueUndelivered(this.state, flush, held, this.now());
  }

  /** One unref'd timer, at the earliest flush any group is due. */
  private wakeAtNextFlush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.current !== 'running') return;
    let next = Infinity;
    for (const entry of Object.values(this.state.groups)) next = Math.min(next, entry.group.flushAt);
    if (!Number.isFinite(next)) return;
    this.timer = setTimeout(() => this.step(), Math.max(0, next - this.now()));
    this.timer.unref();
  }
}
