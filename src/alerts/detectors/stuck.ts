import { z } from 'zod';
import { formatDuration } from '../../domain/duration.ts';
import type { WorkflowEvent } from '../../domain/event.ts';
import type { DetectorSignal } from '../types.ts';
import { evictOver, touch } from '../../base/bounded-map.ts';
import { trackingKey, type BusinessKey } from './business-key.ts';
import { inEventTimeOrder, matchesAny, type Detector } from './detector.ts';
import { observeActivity, observeEnd, observeWatermark, type Inactivity, type Transition } from './inactivity.ts';
import { businessKey, checkTemplate, detectorName, eventMatchers, maxKeys, positiveDuration, severity, optionalOwner, requireOwnerWithoutWorkflow, type WithOwner } from './schema-parts.ts';
import { fillTemplate, formatTime } from './summary-template.ts';

/**
 * Stuck: something started (`ticket.opened`) and nothing moved it on (`ticket.updated`, …)
 * for longer than `after`. Resolves when it moves or ends; an end forgets it.
 */

const PLACEHOLDERS = ['entity', 'correlationId', 'businessKey', 'after', 'since'] as const;
const DEFAULT_SUMMARY = '{entity} has not moved for {after} (last activity {since}) — the customer is waiting on it';

export const stuckSchema = z
  .object({
    name: detectorName,
    /** The workflow's owner when not given. */
    owner: optionalOwner,
    /** A label on the signals, and the owner when `owner` is not given. */
    workflow: z.string().min(1).optional(),
    severity: severity.default('warning'),
    start: eventMatchers,
    progress: eventMatchers.default([]),
    end: eventMatchers.default([]),
    after: positiveDuration,
    /** What is stuck: business key fields of the events; the correlation ID when not given. */
    entity: businessKey.optional(),
    /** Something with no activity for this long is forgotten (a firing one resolved as such). */
    forgetAfter: positiveDuration.default(30 * 86_400_000),
    summary: z.string().min(1).optional(),
    maxKeys: maxKeys.default(100_000),
  })
  .strict()
  .superRefine((c, ctx) => {
    requireOwnerWithoutWorkflow(c, ctx);
    checkTemplate(c.summary, [...PLACEHOLDERS, ...(c.entity ?? []).map((f) => f.name)], ctx);
    if (c.forgetAfter <= c.after) {
      ctx.addIssue({ code: 'custom', path: ['forgetAfter'], message: `must be longer than after (${formatDuration(c.after)})` });
    }
  });

export type StuckConfig = z.output<typeof stuckSchema>;

interface Tracked {
  timer: Inactivity;
  correlationId: string;
  businessKey: BusinessKey | undefined;
}

export interface StuckState {
  tracked: Map<string, Tracked>;
  /** Ended things by key → end time, so that a late or redelivered event cannot start them again. */
  ended: Map<string, number>;
  nextDueAt: number;
  counters: { withoutKey: number; tooOld: number; afterEnd: number; evicted: number; expired: number };
}

type Role = 'start' | 'progress' | 'end';

export function createStuckDetector(config: WithOwner<StuckConfig>): Detector<StuckState> {
  const template = config.summary ?? DEFAULT_SUMMARY;

  const roleOf = (event: WorkflowEvent): Role | undefined => {
    if (matchesAny(config.end, event)) return 'end';
    if (matchesAny(config.start, event)) return 'start';
    if (matchesAny(config.progress, event)) return 'progress';
    return undefined;
  };

  const signal = (key: string, item: Tracked, transition: Transition, resolved?: { reason: string; prefix: string }): DetectorSignal => {
    const entity = item.businessKey?.text ?? `correlation ${item.correlationId}`;
    const values: Record<string, string> = {
      ...item.businessKey?.values,
      entity,
      correlationId: item.correlationId,
      businessKey: item.businessKey?.text ?? '',
      after: formatDuration(config.after),
      since: formatTime(transition.since - config.after),
    };
    return {
      kind: transition.kind,
      detector: config.name,
      key,
      ...(config.workflow !== undefined ? { workflow: config.workflow } : {}),
      owner: config.owner,
      severity: config.severity,
      summary: (resolved?.prefix ?? '') + fillTemplate(template, values),
      correlationId: item.correlationId,
      ...(item.businessKey ? { businessKey: item.businessKey.text } : {}),
      at: transition.at,
      details: { stuckSince: transition.since, ...(resolved ? { reason: resolved.reason } : {}) },
    };
  };

  const toSignals = (key: string, item: Tracked, transitions: Transition[], event?: WorkflowEvent, reason = 'moved'): DetectorSignal[] =>
    transitions.map((t) =>
      t.kind === 'firing'
        ? signal(key, item, t)
        : signal(key, item, t, { reason, prefix: `Resolved, ${reason === 'ended' ? 'ended' : 'moved again'} (${event!.type} ${event!.id} at ${formatTime(event!.time)}): ` }),
    );

  const dueAt = (item: Tracked) =>
    item.timer.lastActivityAt + (item.timer.silentSince === undefined ? config.after : config.forgetAfter);

  return {
    name: config.name,
    initial: () => ({
      tracked: new Map(),
      ended: new Map(),
      nextDueAt: Number.POSITIVE_INFINITY,
      counters: { withoutKey: 0, tooOld: 0, afterEnd: 0, evicted: 0, expired: 0 },
    }),

    apply(state, event, watermark) {
      const role = roleOf(event);
      if (!role) return { state, signals: [] };
      if (event.time < watermark - config.forgetAfter) {
        state.counters.tooOld++;
        return { state, signals: [] };
      }
      const tracked = trackingKey(config.entity, event);
      if (!tracked) {
        state.counters.withoutKey++;
        return { state, signals: [] };
      }
      const { key, businessKey } = tracked;
      const endedAt = state.ended.get(key);
      // Once ended, only a new start after the end (a reopened ticket) brings it back.
      if (endedAt !== undefined && (role !== 'start' || event.time <= endedAt)) {
        if (role === 'end') state.ended.set(key, Math.max(endedAt, event.time));
        else state.counters.afterEnd++;
        return { state, signals: [] };
      }
      state.ended.delete(key);

      let item = state.tracked.get(key);
      const out: DetectorSignal[] = [];
      if (role === 'end') {
        state.ended.set(key, event.time);
        state.nextDueAt = Math.min(state.nextDueAt, event.time + config.forgetAfter);
        evictOver(state.ended, config.maxKeys);
        if (item) {
          state.tracked.delete(key);
          out.push(...toSignals(key, item, observeEnd(item.timer, event.time, config.after), event, 'ended'));
        }
        return { state, signals: out };
      }
      if (!item) {
        // A progress event for something not seen starting counts as its start: it began before we watched.
        // Whether it is stuck already is the next tick's call, after the rest of the batch: a
        // late partition's ticket.opened comes with its ticket.updated.
        item = { timer: { lastActivityAt: event.time, silentSince: undefined }, correlationId: event.correlationId, businessKey };
        touch(state.tracked, key, item);
      } else {
        const transitions = observeActivity(item.timer, event.time, watermark, config.after);
        if (item.timer.lastActivityAt === event.time) {
          item.correlationId = event.correlationId;
          touch(state.tracked, key, item);
        }
        out.push(...toSignals(key, item, transitions, event));
      }
      state.nextDueAt = Math.min(state.nextDueAt, dueAt(item));
      for (const [evictedKey, evicted] of evictOver(state.tracked, config.maxKeys)) {
        state.counters.evicted++;
        const since = evicted.timer.silentSince;
        if (since === undefined) continue;
        const at = Math.max(watermark, evicted.timer.lastActivityAt);
        out.push(signal(evictedKey, evicted, { kind: 'resolved', at, since }, { reason: 'evicted', prefix: `No longer watched (more than ${config.maxKeys} held): ` }));
      }
      return { state, signals: out };
    },

    tick(state, watermark) {
      if (watermark < state.nextDueAt) return { state, signals: [] };
      const out: DetectorSignal[] = [];
      let next = Number.POSITIVE_INFINITY;
      for (const [key, item] of state.tracked) {
        const forgetAt = item.timer.lastActivityAt + config.forgetAfter;
        if (watermark >= forgetAt) {
          state.tracked.delete(key);
          state.counters.expired++;
          // Firing until now (or due to fire before it is forgotten): say why it stops.
          const transitions = observeWatermark(item.timer, watermark, config.after);
          out.push(...transitions.map((t) => signal(key, item, t)));
          const since = item.timer.silentSince!;
          out.push(
            signal(key, item, { kind: 'resolved', at: forgetAt, since }, {
              reason: 'forgotten',
              prefix: `No longer watched after ${formatDuration(config.forgetAfter)} without activity: `,
            }),
          );
          continue;
        }
        out.push(...observeWatermark(item.timer, watermark, config.after).map((t) => signal(key, item, t)));
        next = Math.min(next, dueAt(item));
      }
      for (const [key, endedAt] of state.ended) {
        if (watermark >= endedAt + config.forgetAfter) state.ended.delete(key);
        else next = Math.min(next, endedAt + config.forgetAfter);
      }
      state.nextDueAt = next;
      return { state, signals: inEventTimeOrder(out) };
    },

    size: (state) => state.tracked.size + state.ended.size,
    counters: (state) => state.counters,
  };
}
