import { z } from 'zod';
import { formatDuration } from '../../domain/duration.ts';
import type { DetectorSignal } from '../types.ts';
import { inEventTimeOrder, type Detector } from './detector.ts';
import { observeActivity, observeWatermark, type Inactivity, type Transition } from './inactivity.ts';
import { checkTemplate, detectorName, positiveDuration, severity, optionalOwner, requireOwnerWithoutWorkflow, type WithOwner } from './schema-parts.ts';
import { fillTemplate, formatTime } from './summary-template.ts';

/**
 * Source silence (a heartbeat): no event at all from a source for `after`, judged on the
 * event-time watermark passed in. Resolves when its events come back. Any event of the source
 * counts, failures included: they show that it is alive.
 */

const PLACEHOLDERS = ['source', 'after', 'since'] as const;
const DEFAULT_SUMMARY =
  'No events from {source} for {after} (none since {since}) — automations that depend on it may be failing unseen';

export const sourceSilenceSchema = z
  .object({
    name: detectorName,
    /** The workflow's owner when not given. */
    owner: optionalOwner,
    /** A label on the signals, and the owner when `owner` is not given. */
    workflow: z.string().min(1).optional(),
    severity: severity.default('error'),
    sources: z.array(z.string().min(1)).min(1),
    after: positiveDuration,
    summary: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    requireOwnerWithoutWorkflow(c, ctx);
    checkTemplate(c.summary, PLACEHOLDERS, ctx);
    c.sources.forEach((source, i) => {
      if (c.sources.indexOf(source) !== i) ctx.addIssue({ code: 'custom', path: ['sources', i], message: `"${source}" is listed twice` });
    });
  });

export type SourceSilenceConfig = z.output<typeof sourceSilenceSchema>;

export interface SourceSilenceState {
  /**
   * Per configured source. A source not heard from yet counts from the first watermark the
   * detector was given, when watching began.
   */
  sources: Map<string, Inactivity>;
  watchingSince: number | undefined;
}

export function createSourceSilenceDetector(config: WithOwner<SourceSilenceConfig>): Detector<SourceSilenceState> {
  const template = config.summary ?? DEFAULT_SUMMARY;

  const signal = (source: string, transition: Transition, resolvedBy?: string): DetectorSignal => ({
    kind: transition.kind,
    detector: config.name,
    key: source,
    ...(config.workflow !== undefined ? { workflow: config.workflow } : {}),
    owner: config.owner,
    severity: config.severity,
    summary:
      (resolvedBy ? `Resolved, ${source} is sending again (${resolvedBy}): ` : '') +
      fillTemplate(template, { source, after: formatDuration(config.after), since: formatTime(transition.since - config.after) }),
    at: transition.at,
    details: { silentSince: transition.since, ...(resolvedBy ? { reason: 'events-returned' } : {}) },
  });

  /** Starts the clock of every source at the first watermark that means anything. */
  const begin = (state: SourceSilenceState, watermark: number) => {
    if (state.watchingSince !== undefined || !Number.isFinite(watermark)) return;
    state.watchingSince = watermark;
    for (const timer of state.sources.values()) timer.lastActivityAt = Math.max(timer.lastActivityAt, watermark);
  };

  return {
    name: config.name,
    initial: () => ({
      sources: new Map(config.sources.map((s) => [s, { lastActivityAt: Number.NEGATIVE_INFINITY, silentSince: undefined }])),
      watchingSince: undefined,
    }),

    apply(state, event, watermark) {
      begin(state, watermark);
      const timer = state.sources.get(event.source);
      if (!timer) return { state, signals: [] };
      const transitions = observeActivity(timer, event.time, watermark, config.after);
      return {
        state,
        signals: transitions.map((t) => signal(event.source, t, t.kind === 'resolved' ? `${event.type} ${event.id} at ${formatTime(event.time)}` : undefined)),
      };
    },

    tick(state, watermark) {
      begin(state, watermark);
      const signals: DetectorSignal[] = [];
      for (const [source, timer] of state.sources) {
        signals.push(...observeWatermark(timer, watermark, config.after).map((t) => signal(source, t)));
      }
      return { state, signals: inEventTimeOrder(signals) };
    },

    size: (state) => state.sources.size,
    // It keeps one timer per configured source and sets nothing aside.
    counters: () => ({}),
  };
}
