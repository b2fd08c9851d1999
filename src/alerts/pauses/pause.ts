import type { PagingPause } from '../../domain/controls.ts';
import type { Labels } from '../routing/labels.ts';

/**
 * The paging kill switch, decided: a pause holds back the triggers of every alert whose `team`
 * (or `workflow`) label is its name, from when it was set until it is resumed or its `until`
 * passes. Pure: the pauses and the clock are inputs.
 */
export function pauseActive(pause: PagingPause, now: number): boolean {
  return pause.paused && (pause.until === 0 || now < pause.until);
}

/** The active pauses that cover these labels, as "team=<name>" / "workflow=<name>". */
export function pausedBy(pauses: readonly PagingPause[], labels: Labels, now: number): string[] {
  return pauses.filter((p) => pauseActive(p, now) && labels[p.scope] === p.name).map((p) => `${p.scope}=${p.name}`);
}

export function isPaused(pauses: readonly PagingPause[], labels: Labels, now: number): boolean {
  return pauses.some((p) => pauseActive(p, now) && labels[p.scope] === p.name);
}
