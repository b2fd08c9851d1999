import type { SloDefinition } from './types.ts';

const MINUTE = 60_000;

const floorMinute = (t: number) => Math.floor(t / MINUTE) * MINUTE;

/** How far one SLO's evaluation got: the last minute boundary evaluated and the tiers firing there. */
export interface SloProgress {
  lastAt: number;
  firing: string[];
}

/** What the engine saves to the store, by SLO name, so that a restart continues where it stopped. */
export interface SloProgressState {
  slos: Record<string, SloProgress>;
}

/** The longest tier window: how far back a fresh engine looks for burns still in some window. */
export function catchUpSpan(slo: SloDefinition): number {
  return Math.max(MINUTE, ...slo.alerting.tiers.map((t) => t.longWindowMs));
}

/**
 * Where an engine starts evaluating one SLO (the boundary before the first it evaluates) and
 * which tiers it takes as firing there; `at` is the first minute boundary it may evaluate up to.
 *
 * - Saved progress: it continues from the last boundary evaluated, so a restart raises exactly
 *   the signals an engine that never stopped would have, however long it was down.
 * - Nothing saved: a fresh engine (a new group replaying into the same store) catches up over
 *   the longest tier window before `at`: every burn still in some window is raised again, in
 *   the order it happened.
 * - The tiers taken as firing are those the sink says it was told are firing, when it can tell
 *   (its state was restored from the store): those are the alerts a resolve is owed to, even
 *   when the saved progress is older or newer than the sink's state. Otherwise the saved ones.
 * - The sink knows of firing tiers but nothing was saved (state from a version that saved no
 *   progress): the sink's view holds now, so the engine starts now rather than replaying days
 *   of history into open alerts (which would resolve them at an old time and page again).
 */
export function resumePoint(slo: SloDefinition, at: number, saved: SloProgress | undefined, believed: ReadonlySet<string> | undefined): { fromExclusive: number; firing: Set<string> } {
  if (saved) return { fromExclusive: saved.lastAt, firing: new Set(believed ?? saved.firing) };
  if (believed && believed.size > 0) return { fromExclusive: floorMinute(at) - MINUTE, firing: new Set(believed) };
  return { fromExclusive: floorMinute(at - catchUpSpan(slo)), firing: new Set() };
}

/**
 * The boundary one cycle evaluates up to: at most `maxCatchUpMs` past where it starts, never
 * past `at`. What is left is evaluated by the next cycles: a long catch-up is spread over
 * cycles, never skipped, so no alert is lost to it.
 */
export function cycleEnd(fromExclusive: number, at: number, maxCatchUpMs: number): number {
  return Math.min(floorMinute(at), floorMinute(fromExclusive + Math.max(MINUTE, maxCatchUpMs)));
}

/** Reads a saved state leniently: an SLO whose entry is not usable starts as if nothing was saved. */
export function parseProgress(text: string | undefined): Map<string, SloProgress> {
  const out = new Map<string, SloProgress>();
  if (!text) return out;
  const parsed = JSON.parse(text) as Partial<SloProgressState>;
  for (const [name, p] of Object.entries(parsed.slos ?? {})) {
    if (Number.isSafeInteger(p?.lastAt) && Array.isArray(p.firing)) out.set(name, { lastAt: p.lastAt, firing: p.firing.filter((t) => typeof t === 'string') });
  }
  return out;
}
