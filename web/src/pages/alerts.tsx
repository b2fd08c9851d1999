import { useState } from 'preact/hooks';
import { api, ApiError, token, type AlertView, type MatcherView, type PauseView, type SilenceView } from '../api.ts';
import { Badge, ErrorBox, Freshness, Load, StateBadge } from '../common.tsx';
import { duration, time } from '../format.ts';
import { Link, traceHref } from '../router.tsx';
import { useApi } from '../use-api.ts';

/** How long a resolved alert stays on this page. */
const RECENT_MS = 24 * 3_600_000;

/** Firing, pending and recently resolved alerts, who they page, what mutes them; silences made and expired here. */
export function AlertsPage() {
  const alerts = useApi<{ alerts: AlertView[]; pauses?: PauseView[] }>('/api/v1/alerts');
  const silences = useApi<{ silences: SilenceView[] }>('/api/v1/silences');
  const [draft, setDraft] = useState<string>('');
  const reload = () => {
    alerts.reload();
    silences.reload();
  };
  return (
    <section>
      <h1>Alerts</h1>
      <Freshness loaded={alerts} />
      {/* Paging paused or resumed for a workflow or team (operator controls) shows here, above the lists. */}
      <Load loaded={alerts}>{({ pauses }) => <PagingState pauses={pauses ?? []} />}</Load>
      <Load loaded={alerts}>
        {({ alerts: list }) => {
          const newest = Math.max(0, ...list.map((a) => Date.parse(a.endsAt ?? a.startsAt)));
          const byNewest = [...list].sort((a, b) => Date.parse(b.startsAt) - Date.parse(a.startsAt));
          const groups: [string, AlertView[]][] = [
            ['firing', byNewest.filter((a) => a.state === 'firing')],
            ['pending', byNewest.filter((a) => a.state === 'pending')],
            ['resolved', byNewest.filter((a) => a.state === 'resolved' && a.endsAt !== null && newest - Date.parse(a.endsAt) <= RECENT_MS)],
          ];
          return groups.map(([state, items]) => (
            <div class="alert-group" data-group={state}>
              <h2>
                {state === 'resolved' ? 'Recently resolved' : state[0]!.toUpperCase() + state.slice(1)} <span class="count">{items.length}</span>
              </h2>
              {items.length === 0 ? <p class="muted">None.</p> : <AlertTable alerts={items} onSilence={(m) => setDraft(m)} />}
            </div>
          ));
        }}
      </Load>
      <h2 id="silences">Silences</h2>
      <Load loaded={silences}>{({ silences: list }) => <SilenceTable silences={list.filter((s) => s.state !== 'expired')} onChange={reload} />}</Load>
      <SilenceForm key={draft} matchers={draft} onCreated={reload} />
    </section>
  );
}

/** Reserved for the paging controls' state (paused workflows or teams); renders nothing until they exist. */
/** Paging paused for a team or workflow: alerts are still judged and listed here, but nobody is paged. */
function PagingState(props: { pauses: PauseView[] }) {
  const holding = props.pauses.filter((p) => p.active);
  if (holding.length === 0) return null;
  return (
    <div class="paging-paused" data-field="pauses">
      <strong>Paging paused</strong>
      <ul>
        {holding.map((p) => (
          <li data-pause={`${p.scope}=${p.name}`}>
            {p.scope} <code>{p.name}</code> by {p.by} {p.until ? `until ${time(p.until)}` : 'until resumed'}
            {p.reason ? ` — ${p.reason}` : ''}
          </li>
        ))}
      </ul>
      <p class="muted">Alerts below are still recorded; `seamwatch resume` or DELETE /api/v1/pauses/&lt;scope&gt;/&lt;name&gt; lets them page again.</p>
    </div>
  );
}

function AlertTable(props: { alerts: AlertView[]; onSilence: (matchers: string) => void }) {
  return (
    <table class="list alerts">
      <thead>
        <tr>
          <th>since</th>
          <th>alert</th>
          <th>team / workflow</th>
          <th>pages</th>
          <th>muted by</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {props.alerts.map((a) => {
          const correlationId = a.annotations['correlation_id'];
          const end = a.endsAt ? Date.parse(a.endsAt) : undefined;
          return (
            <tr data-fingerprint={a.fingerprint}>
              <td class="nowrap">
                {time(a.startsAt)}
                {end !== undefined && <div class="muted">resolved after {duration(end - Date.parse(a.startsAt))}</div>}
              </td>
              <td class="wrap">
                <div>
                  <Badge kind={a.labels['severity'] === 'critical' || a.labels['severity'] === 'error' ? 'bad' : 'warn'}>{a.labels['severity'] ?? '—'}</Badge> <b>{a.labels['detector'] ?? a.labels['alertname']}</b>
                </div>
                <div data-field="summary">{a.annotations['summary']}</div>
                {correlationId && (
                  <div>
                    trace: <Link href={traceHref(correlationId)}>{correlationId}</Link>
                  </div>
                )}
              </td>
              <td>
                {a.labels['team']}
                {a.labels['workflow'] && <div class="muted">{a.labels['workflow']}</div>}
              </td>
              <td data-field="receivers">{a.receivers.length === 0 ? <span class="muted">nobody (no route)</span> : a.receivers.join(', ')}</td>
              <td data-field="silenced-by">
                {a.silencedBy.length === 0 && (a.pausedBy ?? []).length === 0 ? <span class="muted">—</span> : a.silencedBy.map((id) => <code class="silence-id">{id.slice(0, 8)}</code>)}
                {(a.pausedBy ?? []).map((scope) => (
                  <span class="paused-by">paused: {scope}</span>
                ))}
              </td>
              <td>
                {a.state !== 'resolved' && (
                  <button type="button" class="small" onClick={() => props.onSilence(matchersFor(a))}>
                    Silence…
                  </button>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** A silence for this alert and its likes: same detector, team and workflow. */
function matchersFor(a: AlertView): string {
  return ['detector', 'team', 'workflow']
    .filter((n) => a.labels[n] !== undefined)
    .map((n) => `${n}=${JSON.stringify(a.labels[n])}`)
    .join(', ');
}

const matcherText = (m: MatcherView | string) => (typeof m === 'string' ? m : `${m.name}${m.type}${JSON.stringify(m.value)}`);

function SilenceTable(props: { silences: SilenceView[]; onChange: () => void }) {
  const [error, setError] = useState<ApiError | undefined>();
  if (props.silences.length === 0) return <p class="muted">No active or pending silences.</p>;
  const expire = async (id: string) => {
    setError(undefined);
    try {
      await api(`/api/v1/silences/${encodeURIComponent(id)}`, { method: 'DELETE' });
      props.onChange();
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, String(e)));
    }
  };
  return (
    <>
      {error && <ErrorBox error={error} />}
      <table class="list silences" data-testid="silences">
        <thead>
          <tr>
            <th>id</th>
            <th>matchers</th>
            <th>state</th>
            <th>until</th>
            <th>by / why</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {props.silences.map((s) => (
            <tr data-silence={s.id}>
              <td>
                <code class="silence-id">{s.id.slice(0, 8)}</code>
              </td>
              <td class="wrap">{s.matchers.map((m) => <code class="matcher">{matcherText(m)}</code>)}</td>
              <td>
                <StateBadge state={s.state} />
              </td>
              <td class="nowrap">{time(s.endsAt)}</td>
              <td class="wrap">
                {s.createdBy}
                <div class="muted">{s.comment}</div>
              </td>
              <td>
                <button type="button" class="small" onClick={() => void expire(s.id)}>
                  Expire
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function SilenceForm(props: { matchers: string; onCreated: () => void }) {
  const [error, setError] = useState<ApiError | undefined>();
  const [done, setDone] = useState('');
  const [unstored, setUnstored] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    setError(undefined);
    setDone('');
    setUnstored(false);
    if (!token.get()) {
      setError(new ApiError(401, 'Creating a silence needs the API token: set it at the top right.'));
      return;
    }
    try {
      const made = await api<SilenceView>('/api/v1/silences', {
        method: 'POST',
        body: { matchers: String(form.get('matchers')), duration: String(form.get('duration')), createdBy: String(form.get('createdBy')), comment: String(form.get('comment')) },
      });
      setDone(made.id);
      setUnstored(made.stored === false);
      props.onCreated();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, String(err)));
    }
  };
  return (
    <form class="silence-form" onSubmit={(e) => void submit(e)} data-testid="silence-form">
      <h3>New silence</h3>
      <label>
        matchers <input name="matchers" required value={props.matchers} placeholder={'team="billing-platform", detector="upgrade-late"'} size={60} />
      </label>
      <label>
        for <input name="duration" required value="2h" size={6} />
      </label>
      <label>
        by <input name="createdBy" required placeholder="you@example.com" />
      </label>
      <label>
        why <input name="comment" required placeholder="billing deploy" size={30} />
      </label>
      <button type="submit">Create silence</button>
      {done && (
        <p class="ok" role="status">
          Silence <code>{done.slice(0, 8)}</code> created.
        </p>
      )}
      {done && unstored && (
        <p class="warn" role="alert">
          It mutes alerts on this instance, but the store did not take it yet: the group's other instances and a restart do not know it until a save gets through (retried every few seconds).
        </p>
      )}
      {error && <ErrorBox error={error} />}
    </form>
  );
}
