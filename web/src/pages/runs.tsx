import type { RunsPage as RunsAnswer, WorkflowDefinition } from '../api.ts';
import { Badge, Freshness, Load, StateBadge } from '../common.tsx';
import { duration, fromLocalInput, number, time, toLocalInput } from '../format.ts';
import { Link, navigate, traceHref } from '../router.tsx';
import { useApi } from '../use-api.ts';

const STATES = ['open', 'completed', 'failed', 'deadline_missed', 'compensated'];

/** Runs by workflow, state and start time; each links to its trace. The filter is the URL's query string. */
export function RunsPage(props: { query: URLSearchParams }) {
  const query = new URLSearchParams([...props.query].filter(([k, v]) => ['workflow', 'state', 'from', 'to'].includes(k) && v !== ''));
  const runs = useApi<RunsAnswer>(`/api/v1/runs?${query}`);
  const workflows = useApi<{ workflows: WorkflowDefinition[] }>('/api/v1/workflows', { live: false });
  const submit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const next = new URLSearchParams();
    for (const k of ['workflow', 'state']) if (form.get(k)) next.set(k, String(form.get(k)));
    for (const k of ['from', 'to']) {
      const ms = fromLocalInput(String(form.get(k) ?? ''));
      if (ms !== undefined) next.set(k, new Date(ms).toISOString());
    }
    navigate(`/runs${next.size > 0 ? `?${next}` : ''}`);
  };
  const shown = (k: string) => {
    const v = query.get(k);
    return v ? toLocalInput(Date.parse(v)) : runs.data ? toLocalInput(Date.parse(k === 'from' ? runs.data.from : runs.data.to)) : '';
  };
  return (
    <section>
      <h1>Runs</h1>
      <Freshness loaded={runs} />
      <form class="filters" onSubmit={submit} key={query.toString() + String(Boolean(runs.data))}>
        <label>
          workflow
          <select name="workflow" value={query.get('workflow') ?? ''}>
            <option value="">all</option>
            {(workflows.data?.workflows ?? []).map((w) => (
              <option value={w.name}>{w.name}</option>
            ))}
          </select>
        </label>
        <label>
          state
          <select name="state" value={query.get('state') ?? ''}>
            <option value="">all</option>
            {STATES.map((s) => (
              <option value={s}>{s.replace('_', ' ')}</option>
            ))}
          </select>
        </label>
        <label>
          started from (UTC) <input type="datetime-local" name="from" value={shown('from')} />
        </label>
        <label>
          to <input type="datetime-local" name="to" value={shown('to')} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <Load loaded={runs}>
        {(page) => (
          <>
            <p class="muted" data-testid="runs-count">
              {page.runs.length < page.total ? `newest ${number(page.runs.length)} of ${number(page.total)} runs` : `${number(page.total)} runs`}
            </p>
            <table class="list" data-testid="runs">
              <thead>
                <tr>
                  <th>started</th>
                  <th>workflow</th>
                  <th>correlation ID</th>
                  <th>state</th>
                  <th class="num">took</th>
                  <th>missing / failed</th>
                  <th class="num">events</th>
                </tr>
              </thead>
              <tbody>
                {page.runs.map((r) => (
                  <tr data-run={r.runId}>
                    <td class="nowrap">{time(r.startedAt)}</td>
                    <td class="nowrap">{r.workflow}</td>
                    <td class="wrap">
                      <Link href={traceHref(r.correlationId)}>{r.correlationId}</Link>
                    </td>
                    <td class="nowrap">
                      <StateBadge state={r.state} />
                      {r.deadlineMissed && r.state === 'completed' && <Badge kind="warn">late</Badge>}
                    </td>
                    <td class="num">{r.completedAt > 0 ? duration(r.completedAt - r.startedAt) : '—'}</td>
                    <td class="wrap">{[...r.missingSteps, ...r.failedSteps.map((s) => `${s} (failed)`)].join(', ') || <span class="muted">—</span>}</td>
                    <td class="num">{r.eventCount}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </Load>
    </section>
  );
}
