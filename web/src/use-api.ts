import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, ApiError } from './api.ts';
import { useEvery, useRefreshMs } from './refresh.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  /** When the shown data was read (ms since the epoch); undefined before the first answer. */
  updatedAt: number | undefined;
  /** The last background refresh failed: the data shown is from `updatedAt`. */
  stale: ApiError | undefined;
  reload: () => void;
}

interface State<T> {
  /** The path `data` was read from. */
  path: string | null;
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  updatedAt: number | undefined;
  stale: ApiError | undefined;
}

const asApiError = (error: unknown) => (error instanceof ApiError ? error : new ApiError(0, String(error)));

/**
 * Reads one API path (none when null); reads it again when the path changes, on reload(), and
 * every refresh period chosen in the header unless `live` is false (lists that do not change,
 * such as the workflows). A refresh keeps what is shown until its answer replaces it: no
 * "Loading…" flash, and a failed refresh leaves the last data up, marked stale.
 */
export function useApi<T>(path: string | null, options: { live?: boolean } = {}): Loaded<T> {
  const [state, setState] = useState<State<T>>({ path, data: undefined, error: undefined, loading: path !== null, updatedAt: undefined, stale: undefined });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) {
      setState({ path, data: undefined, error: undefined, loading: false, updatedAt: undefined, stale: undefined });
      return;
    }
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    api<T>(path).then(
      (data) => current && setState({ path, data, error: undefined, loading: false, updatedAt: Date.now(), stale: undefined }),
      (error: unknown) =>
        current &&
        setState((s) =>
          // This path's data already shown stays up when a refresh fails; a first read shows the error.
          s.path === path && s.data !== undefined ? { ...s, loading: false, stale: asApiError(error) } : { path, data: undefined, error: asApiError(error), loading: false, updatedAt: undefined, stale: undefined },
        ),
    );
    return () => {
      current = false;
    };
  }, [path, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  useEvery(useRefreshMs(), reload, path !== null && options.live !== false);
  const { data, error, loading, updatedAt, stale } = state;
  return { data, error, loading, updatedAt, stale, reload };
}
