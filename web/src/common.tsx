import type { ComponentChildren } from 'preact';
import type { ApiError } from './api.ts';
import type { Loaded } from './use-api.ts';
import { time } from './format.ts';

/** Shows what an API read left: its data, a loading line, or the server's error in words. */
export function Load<T>(props: { loaded: Loaded<T>; children: (data: T) => ComponentChildren }) {
  const { data, error, loading } = props.loaded;
  if (error) return <ErrorBox error={error} />;
  if (data === undefined) return loading ? <p class="muted">Loading…</p> : null;
  return <>{props.children(data)}</>;
}

export function ErrorBox(props: { error: ApiError }) {
  const { error } = props;
  const hint = error.status === 401 ? ' Set the API token (top right).' : '';
  return (
    <div class="error" role="alert">
      <b>{error.status ? `${error.status}: ` : ''}</b>
      {error.message}
      {hint}
      {error.problems.length > 0 && (
        <ul>
          {error.problems.map((p) => (
            <li>{p}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Badge(props: { kind: string; children: ComponentChildren; title?: string }) {
  return (
    <span class={`badge badge-${props.kind}`} title={props.title}>
      {props.children}
    </span>
  );
}

/** Run states and alert states as coloured words. */
export function StateBadge(props: { state: string }) {
  const kind = { completed: 'good', open: 'neutral', failed: 'bad', deadline_missed: 'bad', compensated: 'warn', firing: 'bad', pending: 'warn', resolved: 'good', active: 'warn', expired: 'neutral' }[props.state] ?? 'neutral';
  return (
    <Badge kind={kind}>
      <span data-state={props.state}>{props.state.replace('_', ' ')}</span>
    </Badge>
  );
}

/**
 * When the page's data was read, and whether the last refresh failed (the data then stays up,
 * from that time): a screen left open must say how old what it shows is.
 */
export function Freshness(props: { loaded: Loaded<unknown> }) {
  const { updatedAt, stale } = props.loaded;
  if (updatedAt === undefined) return null;
  if (stale) {
    return (
      <p class="freshness stale" data-field="freshness" role="status">
        Could not refresh ({stale.status ? `${stale.status}: ` : ''}
        {stale.message}); showing data read at {time(updatedAt)}
      </p>
    );
  }
  return (
    <p class="freshness muted" data-field="freshness">
      updated {time(updatedAt)}
    </p>
  );
}
