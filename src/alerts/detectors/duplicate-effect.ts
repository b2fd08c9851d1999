import { z } from 'zod';
import { formatDuration } from '../../domain/duration.ts';
import { eventKey, type WorkflowEvent } from '../../domain/event.ts';
import type { DetectorSignal } from '../types.ts';
import { evictOver, touch } from '../../base/bounded-map.ts';
import { readBusinessKey, type BusinessKey, type BusinessKeyField } from './business-key.ts';
import { inEventTimeOrder, matchesAny, type Detector } from './detector.ts';
import { businessKey, checkTemplate, detectorName, eventMatchers, maxKeys, nonNegativeDuration, positiveDuration, severity, optionalOwner, requireOwnerWithoutWorkflow, type WithOwner } from './schema-parts.ts';
import { fillTemplate, times } from './summary-template.ts';

/**
 * Duplicate business effect: the same business key (account + billing period of an
 * `invoice.created`) produced by two or more *different* events within a window. Identity is
 * (source, id), so a redelivered event is never a duplicate. One signal per duplicated key.
 */

const PLACEHOLDERS = ['businessKey', 'count', 'times', 'events', 'type', 'window', 'correlationIds'] as const;
const DEFAULT_SUMMARY =
  '{type} happened {times} for {businessKey} within {window} (events {events}) — the customer was affected more than once; undo all but one';
/** `window` when not given: retries and redeliveries that double an effect come within hours; a day covers them. */
export const DEFAULT_DUPLICATE_WINDOW_MS = 24 * 3_600_000;

/** Event ids listed per key; further events are still counted. */
export const MAX_LISTED_EVENTS = 20;

export const duplicateEffectSchema = z
  .object({
    name: detectorName,
    /** The workflow's owner when not given. */
    owner: optionalOwner,
    /** A label on the signals, and the owner when `owner` is not given. */
    workflow: z.string().min(1).optional(),
    severity: severity.default('critical'),
    match: eventMatchers,
    businessKey,
    /** How far apart two effects of one key still count as duplicates, and how long a key is remembered. */
    window: positiveDuration.default(DEFAULT_DUPLICATE_WINDOW_MS),
    /**
     * How long after the first duplicate (event time) to wait before signalling, so that a
     * burst of retries is reported as one signal with its whole count. 0 signals as soon as
     * the watermark reaches the duplicate.
     */
    settle: nonNegativeDuration.default(0),
    summary: z.string().min(1).optional(),
    maxKeys: maxKeys.default(100_000),
  })
  .strict()
  .superRefine((c, ctx) => {
    requireOwnerWithoutWorkflow(c, ctx);
    checkTemplate(c.summary, [...PLACEHOLDERS, ...c.businessKey.map((f) => f.name)], ctx);
  });

export type DuplicateEffectConfig = z.output<typeof duplicateEffectSchema>;

interface EffectEvent {
  source: string;
  id: string;
  time: number;
  correlationId: string;
  type: string;
}

interface KeyEpisode {
  businessKey: BusinessKey;
  /** Distinct events, ordered by (time, source, id); at most MAX_LISTED_EVENTS. */
  events: EffectEvent[];
  /** Distinct events counted, listed or not. */
  count: number;
  maxTime: number;
  firing: boolean;
}

export interface DuplicateEffectState {
  keys: Map<string, KeyEpisode>;
  /** The earliest watermark at which tick has something to do, so that most ticks cost nothing. */
  nextDueAt: number;
  counters: { withoutBusinessKey: number; tooOld: number; evicted: number; expired: number };
}

const byTimeThenId = (a: EffectEvent, b: EffectEvent) =>
  a.time - b.time || (a.source < b.source ? -1 : a.source > b.source ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function createDuplicateEffectDetector(config: WithOwner<DuplicateEffectConfig>): Detector<DuplicateEffectState> {
  const fields: readonly BusinessKeyField[] = config.businessKey;
  const template = config.summary ?? DEFAULT_SUMMARY;

  /** The first event within the window of the one before it: where the duplication began. */
  const firstDuplicate = (episode: KeyEpisode): EffectEvent | undefined => {
    for (let i = 1; i < episode.events.length; i++) {
      if (episode.events[i]!.time - episode.events[i - 1]!.time <= config.window) return episode.events[i];
    }
    return undefined;
  };

  const signal = (
    kind: DetectorSignal['kind'],
    episode: KeyEpisode,
    listed: EffectEvent[],
    count: number,
    at: number,
    trigger: EffectEvent,
    resolved?: { reason: string; prefix: string },
  ): DetectorSignal => {
    const values: Record<string, string> = {
      ...episode.businessKey.values,
      businessKey: episode.businessKey.text,
      count: String(count),
      times: times(count),
      events: listed.map((e) => e.id).join(', '),
      type: listed[0]!.type,
      window: formatDuration(config.window),
      correlationIds: [...new Set(listed.map((e) => e.correlationId))].join(', '),
    };
    return {
      kind,
      detector: config.name,
      key: episode.businessKey.key,
      ...(config.workflow !== undefined ? { workflow: config.workflow } : {}),
      owner: config.owner,
      severity: config.severity,
      summary: (resolved?.prefix ?? '') + fillTemplate(template, values),
      correlationId: trigger.correlationId,
      businessKey: episode.businessKey.text,
      at,
      details: {
        count,
        events: values['events']!,
        correlationIds: values['correlationIds']!,
        ...(resolved ? { reason: resolved.reason } : {}),
      },
    };
  };

  /** Fires once the watermark is `settle` past the first duplicate; lists what happened by then. */
  const decide = (episode: KeyEpisode, watermark: number): DetectorSignal[] => {
    if (episode.firing) return [];
    const duplicate = firstDuplicate(episode);
    if (!duplicate || watermark < duplicate.time + config.settle) return [];
    episode.firing = true;
    const listed = episode.events.filter((e) => e.time <= duplicate.time + config.settle);
    return [signal('firing', episode, listed, listed.length, duplicate.time, duplicate)];
  };

  /** Until then, another event could still be a duplicate; past it, the key is forgotten. */
  const expiresAt = (episode: KeyEpisode) => episode.maxTime + config.window;

  /** When tick has something to do for this key: fire it or forget it. */
  const dueAt = (episode: KeyEpisode) => {
    const duplicate = episode.firing ? undefined : firstDuplicate(episode);
    return Math.min(duplicate ? duplicate.time + config.settle : Number.POSITIVE_INFINITY, expiresAt(episode));
  };

  /** A firing key that is forgotten is resolved: past its window, or pushed out by maxKeys. */
  const forget = (episode: KeyEpisode, evictedAt?: number): DetectorSignal[] => {
    if (!episode.firing) return [];
    const last = episode.events[episode.events.length - 1]!;
    const resolved =
      evictedAt === undefined
        ? { reason: 'window-passed', prefix: `Resolved, no further duplicate can count after ${formatDuration(config.window)}: ` }
        : { reason: 'evicted', prefix: `No longer watched (more than ${config.maxKeys} keys held): ` };
    const at = evictedAt === undefined ? expiresAt(episode) : Math.max(evictedAt, episode.maxTime);
    return [signal('resolved', episode, episode.events, episode.count, at, last, resolved)];
  };

  return {
    name: config.name,
    initial: () => ({ keys: new Map(), nextDueAt: Number.POSITIVE_INFINITY, counters: { withoutBusinessKey: 0, tooOld: 0, evicted: 0, expired: 0 } }),

    apply(state, event: WorkflowEvent, watermark) {
      if (!matchesAny(config.match, event)) return { state, signals: [] };
      if (event.time < watermark - config.window) {
        state.counters.tooOld++;
        return { state, signals: [] };
      }
      const businessKey = readBusinessKey(fields, event.data);
      if (!businessKey) {
        state.counters.withoutBusinessKey++;
        return { state, signals: [] };
      }
      const effect: EffectEvent = { source: event.source, id: event.id, time: event.time, correlationId: event.correlationId, type: event.type };
      let episode = state.keys.get(businessKey.key);
      if (!episode) episode = { businessKey, events: [], count: 0, maxTime: event.time, firing: false };
      // A redelivery carries the same (source, id): it is the same effect, not another one.
      const identity = eventKey(effect);
      if (episode.events.some((e) => eventKey(e) === identity)) return { state, signals: [] };
      episode.count++;
      episode.maxTime = Math.max(episode.maxTime, event.time);
      if (episode.events.length < MAX_LISTED_EVENTS) {
        episode.events.push(effect);
        episode.events.sort(byTimeThenId);
      }
      touch(state.keys, businessKey.key, episode);
      const signals = decide(episode, watermark);
      state.nextDueAt = Math.min(state.nextDueAt, dueAt(episode));
      for (const [, evicted] of evictOver(state.keys, config.maxKeys)) {
        state.counters.evicted++;
        signals.push(...forget(evicted, watermark));
      }
      return { state, signals };
    },

    tick(state, watermark) {
      if (watermark < state.nextDueAt) return { state, signals: [] };
      const signals: DetectorSignal[] = [];
      state.nextDueAt = Number.POSITIVE_INFINITY;
      for (const [key, episode] of state.keys) {
        signals.push(...decide(episode, watermark));
        if (watermark >= expiresAt(episode)) {
          state.keys.delete(key);
          state.counters.expired++;
          signals.push(...forget(episode));
        } else {
          state.nextDueAt = Math.min(state.nextDueAt, dueAt(episode));
        }
      }
      return { state, signals: inEventTimeOrder(signals) };
    },

    size: (state) => state.keys.size,
    counters: (state) => state.counters,
  };
}
