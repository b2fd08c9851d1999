import type { WorkflowEvent } from '../../domain/event.ts';
import type { DetectorSignal } from '../types.ts';

/** What one step of a detector returns: its state after the step and what it has to say. */
export interface DetectorStep<S> {
  state: S;
  signals: DetectorSignal[];
}

/**
 * A detector is a state machine in event time. `apply` takes one input (a workflow event, or a
 * run verdict for the deadline detector) and `tick` only moves time on; both are told the
 * event-time watermark and never read a clock, so a replay of the same inputs and ticks in the
 * same order gives the same signals.
 *
 * For bounded cost the state is updated in place and returned, not copied: treat the state
 * passed in as consumed and keep the returned one. States are plain data (objects, Maps,
 * arrays, numbers, strings), so they can be cloned or persisted as they are.
 */
export interface Detector<S, I = WorkflowEvent> {
  /** The configured name; every signal carries it as `detector`. */
  readonly name: string;
  initial(): S;
  apply(state: S, input: I, watermark: number): DetectorStep<S>;
  tick(state: S, watermark: number): DetectorStep<S>;
  /** Keys held in memory, for a gauge; bounded by the detector's `maxKeys`. */
  size(state: S): number;
  /**
   * Running totals of what it set aside or stopped watching (`tooOld`, `evicted`, `expired`, …),
   * for a counter: a watermark that jumped shows here as a burst of expired keys.
   */
  counters(state: S): Readonly<Record<string, number>>;
}

/** An event type from a source, as config names it. */
export interface EventMatcher {
  source: string;
  type: string;
}

export function matchesAny(matchers: readonly EventMatcher[], event: Pick<WorkflowEvent, 'source' | 'type'>): boolean {
  return matchers.some((m) => m.source === event.source && m.type === event.type);
}

/** Signals of one tick in the order they happened (then by key), whatever order memory holds them in. */
export function inEventTimeOrder(signals: DetectorSignal[]): DetectorSignal[] {
  return signals.sort((a, b) => a.at - b.at || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
