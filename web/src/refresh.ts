import { useEffect, useState } from 'preact/hooks';

/**
 * How often the pages read their API again on their own, in seconds (0: never), chosen in the
 * header and kept in this browser. A page left open on a wall screen or during an incident must
 * show what is firing now, not what was firing when it was opened.
 */
export const REFRESH_CHOICES = [0, 5, 15, 60] as const;
const DEFAULT_SECONDS = 15;
const KEY = 'seamwatch.refresh';

const listeners = new Set<(seconds: number) => void>();

function stored(): number {
  const value = Number(localStorage.getItem(KEY) ?? DEFAULT_SECONDS);
  return (REFRESH_CHOICES as readonly number[]).includes(value) ? value : DEFAULT_SECONDS;
}

export const refresh = {
  get: stored,
  set(seconds: number): void {
    localStorage.setItem(KEY, String(seconds));
    for (const listener of listeners) listener(seconds);
  },
};

/** The refresh period in milliseconds (0: off), following changes made in the header. */
export function useRefreshMs(): number {
  const [seconds, setSeconds] = useState(stored);
  useEffect(() => {
    listeners.add(setSeconds);
    return () => void listeners.delete(setSeconds);
  }, []);
  return seconds * 1000;
}

/**
 * Calls `reload` every `ms` while the tab is shown (a hidden tab asks nothing), and once as it
 * comes back into view.
 */
export function useEvery(ms: number, reload: () => void, enabled: boolean): void {
  useEffect(() => {
    if (!enabled || ms <= 0) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, ms);
    const onShow = () => {
      if (document.visibilityState === 'visible') reload();
    };
    document.addEventListener('visibilitychange', onShow);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onShow);
    };
  }, [ms, reload, enabled]);
}
