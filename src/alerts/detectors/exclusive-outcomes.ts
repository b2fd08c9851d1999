import { z } from 'zod';
import { formatDuration } from '../../domain/duration.ts';
import type { DetectorSignal } from '../types.ts';
import { evictOver, touch } from '../../base/bounded-map.ts';
import { trackingKey, type BusinessKey } from './business-key.ts';
import { inEventTimeOrder, type Detector } from './detector.ts';
import { businessKey, checkTemplate, detectorName, maxKeys, positiveDuration, severity, optionalOwner, requireOwnerWithoutWorkflow, type WithOwner } from './schema-parts.ts';
import { fillTemplate, listOf } from './summary-template.ts';

/**
 * Exclusive outcomes: outcomes that must not both happen for the same thing (an invoice voided
 * and paid). The thing is a business key read from the events, or the correlation ID. One
 * signal per thing, when the second outcome arrives.
 */

const PLACEHOLDERS = ['entity', 'outcomes', 'businessKey', 'correlationId', 'window'] as const;
const DEFAULT_SUMMARY = '{entity}: {outcomes} must not both happen, but did — the records disagree on what the customer got; reconcile by hand';

const outcome = z
  .object({
    name: detectorName,
    source: z.string().min(1),
    type: z.string().min(1),
  })
  .strict();

export const exclusiveOutcomesSchema = z
  .object({
    name: detectorName,
    /** The workflow's owner when not given. */
    owner: optionalOwner,
    /** A label on the signals, and the owner when `owner` is not given. */
    workflow: z.string().min(1).optional(),
    severity: severity.default('critical'),
    outcomes: z.array(outcome).min(2, 'needs at least two outcomes'),
    /** What must not have both: business key fields of the outcome events; the correlation ID when not given. */
    key: businessKey.optional(),
    /** How long outcomes of one thing are remembered after its last one. */
    window: positiveDuration.default(30 * 86_400_000),
    summary: z.string().min(1).optional(),
    maxKeys: maxKeys.default(100_000),
  })
  .strict()
  .superRefine((c, ctx) => {
    requireOwnerWithoutWorkflow(c, ctx);
    const names = c.outcomes.map((o) => o.name);
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i) ctx.addIssue({ code: 'custom', path: ['outcomes', i, 'name'], message: `duplicate outcome "${name}"` });
    });
    checkTemplate(c.summary, [...PLACEHOLDERS, ...names, ...(c.key ?? []).map((f) => f.name)], ctx);
  });

export type ExclusiveOutcomesConfig = z.output<typeof exclusiveOutcomesSchema>;

interface OutcomeEvent {
  source: string;
  id: string;
  time: number;
  correlationId: string;
}

interface Thing {
  businessKey: BusinessKey | undefined;
  /** Earliest event of each outcome seen, by outcome name. */
  outcomes: Map<string, OutcomeEvent>;
  maxTime: number;
  firing: boolean;
}

export interface ExclusiveOutcomesState {
  things: Map<string, Thing>;
  nextDueAt: number;
  counters: { withoutKey: number; tooOld: number; evicted: number; expired: number };
}

const earlier = (a: OutcomeEvent, b: OutcomeEvent) => a.time < b.time || (a.time === b.time && (a.source < b.source || (a.source === b.source && a.id < b.id)));

export function createExclusiveOutcomesDetector(config: WithOwner<ExclusiveOutcomesConfig>): Detector<ExclusiveOutcomesState> {
  const template = config.summary ?? DEFAULT_SUMMARY;
  const order = config.outcomes.map((o) => o.name);

  /** Outcomes seen, in the order config lists them. */
  const seen = (thing: Thing) => order.filter((name) => thing.outcomes.has(name)).map((name) => [name, thing.outcomes.get(name)!] as const);

  const signal = (key: string, thing: Thing, at: number, resolved?: { reason: string; prefix: string }): DetectorSignal => {
    const outcomes = seen(thing);
    const latest = outcomes.reduce((a, b) => (earlier(a[1], b[1]) ? b : a))[1];
    const correlationId = config.key ? latest.correlationId : key;
    const values: Record<string, string> = {
      ...thing.businessKey?.values,
      ...Object.fromEntries(outcomes.map(([name, e]) => [name, e.id])),
      entity: thing.businessKey?.text ?? `correlation ${correlationId}`,
      outcomes: listOf(outcomes.map(([name, e]) => `${name} (${e.id})`)),
      businessKey: thing.businessKey?.text ?? '',
      correlationId,
      window: formatDuration(config.window),
    };
    return {
      kind: resolved ? 'resolved' : 'firing',
      detector: config.name,
      key,
      ...(config.workflow !== undefined ? { workflow: config.workflow } : {}),
      owner: config.owner,
      severity: config.severity,
      summary: (resolved?.prefix ?? '') + fillTemplate(template, values),
      correlationId,
      ...(thing.businessKey ? { businessKey: thing.businessKey.text } : {}),
      at,
      details: {
        outcomes: outcomes.map(([name]) => name).join(', '),
        events: outcomes.map(([, e]) => e.id).join(', '),
        ...(resolved ? { reason: resolved.reason } : {}),
      },
    };
  };

  const forget = (key: string, thing: Thing, evictedAt?: number): DetectorSignal[] => {
    if (!thing.firing) return [];
    if (evictedAt !== undefined) {
      return [signal(key, thing, Math.max(evictedAt, thing.maxTime), { reason: 'evicted', prefix: `No longer watched (more than ${config.maxKeys} held): ` })];
    }
    const prefix = `Resolved, outcomes no longer compared after ${formatDuration(config.window)}: `;
    return [signal(key, thing, thing.maxTime + config.window, { reason: 'window-passed', prefix })];
  };

  return {
    name: config.name,
    initial: () => ({ things: new Map(), nextDueAt: Number.POSITIVE_INFINITY, counters: { withoutKey: 0, tooOld: 0, evicted: 0, expired: 0 } }),

    apply(state, event, watermark) {
      const name = config.outcomes.find((o) => o.source === event.source && o.type === event.type)?.name;
      if (name === undefined) return { state, signals: [] };
      if (event.time < watermark - config.window) {
        state.counters.tooOld++;
        return { state, signals: [] };
      }
      const tracked = trackingKey(config.key, event);
      if (!tracked) {
        state.counters.withoutKey++;
        return { state, signals: [] };
      }
      const { key, businessKey } = tracked;
      const thing = state.things.get(key) ?? { businessKey, outcomes: new Map(), maxTime: event.time, firing: false };
      const current = thing.outcomes.get(name);
      const candidate: OutcomeEvent = { source: event.source, id: event.id, time: event.time, correlationId: event.correlationId };
      // A redelivery, or the same outcome once more (paid twice is the duplicate detector's), is no new conflict.
      if (!current || earlier(candidate, current)) thing.outcomes.set(name, candidate);
      thing.maxTime = Math.max(thing.maxTime, event.time);
      touch(state.things, key, thing);
      state.nextDueAt = Math.min(state.nextDueAt, thing.maxTime + config.window);
      const signals: DetectorSignal[] = [];
      if (!thing.firing && thing.outcomes.size >= 2) {
        thing.firing = true;
        // The conflict began when the second outcome happened, whichever arrived first.
        const times = [...thing.outcomes.values()].map((e) => e.time).sort((a, b) => a - b);
        signals.push(signal(key, thing, times[1]!));
      }
      for (const [evictedKey, evicted] of evictOver(state.things, config.maxKeys)) {
        state.counters.evicted++;
        signals.push(...forget(evictedKey, evicted, watermark));
      }
      return { state, signals };
    },

    tick(state, watermark) {
      if (watermark < state.nextDueAt) return { state, signals: [] };
      const signals: DetectorSignal[] = [];
      let next = Number.POSITIVE_INFINITY;
      for (const [key, thing] of state.things) {
        if (watermark >= thing.maxTime + config.window) {
          state.things.delete(key);
          state.counters.expired++;
          signals.push(...forget(key, thing));
        } else {
          next = Math.min(next, thing.maxTime + config.window);
        }
      }
      state.nextDueAt = next;
      return { state, signals: inEventTimeOrder(signals) };
    },

    size: (state) => state.things.size,
    counters: (state) => state.counters,
  };
}
