import type { Detector, DetectorStep } from './detector.ts';

/** One step of a detector's history: an input at a watermark, or the watermark moving on. */
export type DetectorInput<I> = { input: I; watermark: number } | { tick: number };

/**
 * Feeds inputs and ticks to a detector in order and collects every signal: how a detector's
 * state is rebuilt from stored events after a restart, and how tests drive one.
 */
export function replay<S, I>(detector: Detector<S, I>, inputs: Iterable<DetectorInput<I>>, state: S = detector.initial()): DetectorStep<S> {
  const signals: DetectorStep<S>['signals'] = [];
  let current = state;
  for (const item of inputs) {
    const step = 'tick' in item ? detector.tick(current, item.tick) : detector.apply(current, item.input, item.watermark);
    current = step.state;
    signals.push(...step.signals);
  }
  return { state: current, signals };
}
