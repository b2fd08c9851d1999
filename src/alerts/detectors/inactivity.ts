/**
 * A quiet-period timer in event time, shared by the stuck and source-silence detectors:
 * something is silent once `afterMs` passed since its last activity, and stops being silent
 * when activity comes back. Transitions carry the event time they happened at, never the time
 * they were noticed, so ticking more or less often does not change them.
 */
export interface Inactivity {
  lastActivityAt: number;
  /** When the current silence began (lastActivityAt + afterMs); undefined while not silent. */
  silentSince: number | undefined;
}

export interface Transition {
  kind: 'firing' | 'resolved';
  at: number;
  /** When the silence this transition belongs to began; equal to `at` when firing. */
  since: number;
}

/** The watermark moved on: silent once it reaches lastActivityAt + afterMs. */
export function observeWatermark(timer: Inactivity, watermark: number, afterMs: number): Transition[] {
  // No activity yet (lastActivityAt -Infinity) is not a silence of infinite length: nothing to judge.
  if (timer.silentSince !== undefined || !Number.isFinite(timer.lastActivityAt)) return [];
  const due = timer.lastActivityAt + afterMs;
  if (watermark < due) return [];
  timer.silentSince = due;
  return [{ kind: 'firing', at: due, since: due }];
}

/**
 * Activity at `time`. Activity no newer than the last one (a redelivery, a late event) changes
 * nothing. A gap longer than afterMs that only shows now (no tick in between) is reported as
 * the silence it was: firing at its start, resolved at this activity. Late activity that does
 * not end the silence by the watermark leaves it going on, without a signal. A silence the
 * watermark alone shows is left to the next tick (`observeWatermark`), which comes after the
 * batch in hand: a partition that delivers late brings its later activity in the same batch,
 * and that must count before anything is judged silent.
 */
export function observeActivity(timer: Inactivity, time: number, watermark: number, afterMs: number): Transition[] {
  if (time <= timer.lastActivityAt) return [];
  const out: Transition[] = [];
  let since = timer.silentSince;
  if (since === undefined && Number.isFinite(timer.lastActivityAt) && time >= timer.lastActivityAt + afterMs) {
    since = timer.lastActivityAt + afterMs;
    out.push({ kind: 'firing', at: since, since });
  }
  timer.lastActivityAt = time;
  timer.silentSince = since;
  if (since !== undefined) {
    if (watermark >= time + afterMs) return out;
    out.push({ kind: 'resolved', at: Math.max(time, since), since });
    timer.silentSince = undefined;
  }
  return out;
}

/**
 * The thing ended at `time` (a closed ticket) and will be forgotten: a silence going on, or
 * one that only shows now, ends here.
 */
export function observeEnd(timer: Inactivity, time: number, afterMs: number): Transition[] {
  const since = timer.silentSince;
  if (since !== undefined) return [{ kind: 'resolved', at: Math.max(time, since), since }];
  const due = timer.lastActivityAt + afterMs;
  if (time >= due) return [{ kind: 'firing', at: due, since: due }, { kind: 'resolved', at: time, since: due }];
  return [];
}
