import { useState } from 'preact/hooks';
import type { RunRecord, TraceView, WorkflowDefinition } from '../api.ts';
import { Badge, Freshness, Load, StateBadge } from '../common.tsx';
import { duration, time } from '../format.ts';
import { Link, navigate, sloHref, traceHref } from '../router.tsx';
import { useApi } from '../use-api.ts';
import { layoutWaterfall, type WaterfallRow } from '../waterfall.ts';

/** Longest event data shown in the events table; the API has all of it. */
const DATA_PREVIEW = 400;

/** Search a correlation ID; each of its runs as a waterfall across systems, with verdict and SLOs. */
export function TracePage(props: { correlationId: string | undefined }) {
  const trace = useApi<TraceView>(props.correlationId ? `/api/v1/traces/${encodeURIComponent(props.correlationId)}` : null);
  const workflows = useApi<{ workflows: WorkflowDefinition[] }>('/api/v1/workflows', { live: false });
  return (
    <section>
      <h1>Trace</h1>
      <TraceSearch value={props.correlationId ?? ''} />
      {props.correlationId && <Freshness loaded={trace} />}
      {props.correlationId && (
        <Load loaded={trace}>
          {(t) => (
            <>
              <p class="muted">
                correlation ID <code data-testid="correlation-id">{t.correlationId}</code> — {t.runs.length} run{t.runs.length === 1 ? '' : 's'}, {t.events.length} event{t.events.length === 1 ? '' : 's'}
              </p>
              {t.runs.map((run) => (
                <RunTrace run={run} trace={t} workflow={workflows.data?.workflows.find((w) => w.name === run.workflow)} />
              ))}
              <EventsTable trace={t} />
            </>
          )}
        </Load>
      )}
    </section>
  );
}

function TraceSearch(props: { value: string }) {
  const [value, setValue] = useState(props.value);
  return (
    <form
      class="search"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) navigate(traceHref(value.trim()));
      }}
    >
      <input name="correlationId" aria-label="correlation ID" placeholder="correlation ID" value={value} onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)} size={48} />
      <button type="submit">Show trace</button>
    </form>
  );
}

function RunTrace(props: { run: RunRecord; trace: TraceView; workflow: WorkflowDefinition | undefined }) {
  const { run, trace, workflow } = props;
  const verdicts = trace.sloVerdicts.filter((v) => v.runId === run.runId);
  const w = layoutWaterfall(run, trace.spans, trace.events, workflow, trace.redeliveries);
  return (
    <article class="run" data-run={run.runId}>
      <h2>
        {run.workflow} <StateBadge state={run.state} />
        {run.deadlineMissed && run.state === 'completed' && <Badge kind="warn">late</Badge>}
      </h2>
      <dl class="facts">
        <dt>owner</dt>
        <dd>{run.owner}</dd>
        <dt>started</dt>
        <dd>{time(run.startedAt)}</dd>
        <dt>deadline</dt>
        <dd>{time(run.deadlineAt)}</dd>
        <dt>{run.completedAt > 0 ? 'completed' : 'last event'}</dt>
        <dd>{run.completedAt > 0 ? `${time(run.completedAt)} (${duration(run.completedAt - run.startedAt)})` : time(run.lastEventAt)}</dd>
        {run.missingSteps.length > 0 && (
          <>
            <dt>missing</dt>
            <dd>{run.missingSteps.join(', ')}</dd>
          </>
        )}
        {run.failedSteps.length > 0 && (
          <>
            <dt>failed</dt>
            <dd>{run.failedSteps.join(', ')}</dd>
          </>
        )}
        <dt>SLOs</dt>
        <dd data-field="slos">
          {verdicts.length === 0 ? (
            <span class="muted">not counted in any SLO (yet)</span>
          ) : (
            verdicts.map((v) => (
              <Badge kind={v.good ? 'good' : 'bad'} title={`counted at ${time(v.due)}`}>
                <Link href={sloHref(v.slo)}>{v.slo}</Link>: {v.good ? 'good' : 'bad'}
              </Badge>
            ))
          )}
        </dd>
      </dl>
      <div class="wf" data-testid="waterfall">
        <div class="wf-row wf-axis">
          <div class="wf-label" />
          <div class="wf-track">
            {w.ticks.map((t) => (
              <span class="wf-tick" style={{ left: `${t.at * 100}%` }}>
                {t.label}
              </span>
            ))}
          </div>
        </div>
        {w.rows.map((row) => (
          <WaterfallLine row={row} />
        ))}
        <Overlay deadline={w.deadline} deadlineAt={run.deadlineAt} />
      </div>
      <div class="wf-legend" aria-hidden="true">
        <span><i class="lg-point" /> trigger</span>
        <span><i class="lg-bar" /> step, from the step before</span>
        <span><i class="lg-failed" /> failed step</span>
        <span><i class="lg-attempt" /> failed attempt (retried)</span>
        <span><i class="lg-redelivery" /> delivered again (dropped)</span>
        <span><i class="lg-missing" /> required step not done</span>
        <span><i class="lg-deadline" /> deadline</span>
      </div>
    </article>
  );
}

function Overlay(props: { deadline: number; deadlineAt: number }) {
  return (
    <div class="wf-row wf-overlay" aria-hidden="true">
      <div class="wf-label" />
      <div class="wf-track">
        <span class="wf-deadline" data-testid="deadline" style={{ left: `${props.deadline * 100}%` }} title={`deadline ${time(props.deadlineAt)}`}>
          <span>deadline</span>
        </span>
      </div>
    </div>
  );
}

function WaterfallLine(props: { row: WaterfallRow }) {
  const { row } = props;
  const left = `${row.from * 100}%`;
  const width = `${Math.max(0, row.to - row.from) * 100}%`;
  const error = [row.errorClass, row.errorCode].filter(Boolean).join(' ');
  return (
    <div class={`wf-row wf-${row.kind} wf-${row.status}`} data-step={row.step} data-status={row.status}>
      <div class="wf-label">
        <b>{row.step}</b> <span class="muted">{row.source}</span>
        <div class="wf-notes">
          {row.kind === 'missing' ? 'missing' : row.kind === 'trigger' ? time(row.endAt) : `+${duration(row.sinceTriggerMs)}`}
          {row.status === 'failed' && <Badge kind="bad">failed{error ? `: ${error}` : ''}</Badge>}
          {row.retries > 0 && (
            <Badge kind="warn" title="other events of this step: failed attempts and retries">
              {row.retries} retr{row.retries === 1 ? 'y' : 'ies'}
            </Badge>
          )}
          {row.redeliveries > 0 && (
            <Badge kind="neutral" title="the same event delivered again; seamwatch dropped the copies">
              {row.redeliveries} redeliver{row.redeliveries === 1 ? 'y' : 'ies'}
            </Badge>
          )}
          {row.late && <Badge kind="warn">after deadline</Badge>}
        </div>
      </div>
      <div class="wf-track">
        {row.kind === 'trigger' ? (
          <span class="wf-point" style={{ left }} title={`trigger at ${time(row.endAt)}`} />
        ) : (
          <span class="wf-bar" style={{ left, width }} title={row.kind === 'missing' ? 'not done' : `${row.step}: ${duration(row.endAt - row.startAt)} after the step before (${time(row.endAt)})`} />
        )}
        {row.marks.map((m) => (
          <span class={`wf-mark wf-${m.kind}`} style={{ left: `${m.at * 100}%` }} title={`${time(m.time)} ${m.title}`} data-mark={m.kind} />
        ))}
      </div>
    </div>
  );
}

function EventsTable(props: { trace: TraceView }) {
  return (
    <>
      <h2>Events</h2>
      <table class="list events" data-testid="events">
        <thead>
          <tr>
            <th>time</th>
            <th>source / type</th>
            <th>id</th>
            <th>error</th>
            <th>data</th>
          </tr>
        </thead>
        <tbody>
          {props.trace.events.map((e) => {
            const again = props.trace.redeliveries.filter((r) => r.source === e.source && r.eventId === e.id).length;
            return (
            <tr data-event={e.id}>
              <td class="nowrap">{time(e.time)}</td>
              <td>
                {e.source} <div class="muted">{e.type}</div>
              </td>
              <td class="wrap">
                <code>{e.id}</code>
                <div class="muted">
                  {e.origin.topic} / {e.origin.partition} / {e.origin.offset}
                </div>
                {again > 0 && <Badge kind="neutral">delivered {again + 1}×</Badge>}
              </td>
              <td class="wrap">{[e.error.class, e.error.code, e.error.message].filter(Boolean).join(' — ') || <span class="muted">—</span>}</td>
              <td class="wrap">
                <code class="data">{e.data.length > DATA_PREVIEW ? `${e.data.slice(0, DATA_PREVIEW)}…` : e.data}</code>
              </td>
            </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

