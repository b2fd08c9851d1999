import { useMemo, useState } from 'preact/hooks';
import type { SloDetail } from '../api.ts';
import { TimeChart } from '../chart.tsx';
import { Badge, Freshness, Load } from '../common.tsx';
import { number, percent, time } from '../format.ts';
import { Link } from '../router.tsx';
import { useApi } from '../use-api.ts';
import { BudgetBar } from './slos.tsx';

/** One SLO: its numbers, SLI and error budget over its window, and each burn-rate tier. */
export function SloPage(props: { name: string }) {
  const loaded = useApi<SloDetail>(`/api/v1/slos/${encodeURIComponent(props.name)}`);
  return (
    <section>
      <p class="crumbs">
        <Link href="/slos">SLOs</Link> / {props.name}
      </p>
      <Freshness loaded={loaded} />
      <Load loaded={loaded}>{(slo) => <SloBody slo={slo} />}</Load>
    </section>
  );
}

function SloBody(props: { slo: SloDetail }) {
  const { slo } = props;
  // The whole window by default (the budget is counted over it); or only the part where runs were counted.
  const [span, setSpan] = useState<'window' | 'runs'>('window');
  const charts = useMemo(() => {
    const points = slo.series.points;
    const start = Date.parse(slo.windowStart) / 1000;
    const end = Date.parse(slo.at) / 1000;
    const whole = span === 'window';
    // The budget is whole at the window's start and stays where the last bucket left it until now.
    const xs = [...(whole ? [start] : []), ...points.map((p) => Date.parse(p.at) / 1000), ...(whole ? [end] : [])];
    const last = points[points.length - 1]?.budgetRemainingRatio ?? 1;
    const sli = [...(whole ? [null] : []), ...points.map((p) => p.sli), ...(whole ? [null] : [])];
    const budget = [...(whole ? [1] : []), ...points.map((p) => p.budgetRemainingRatio), ...(whole ? [last] : [])];
    return {
      xs,
      xRange: whole ? ([start, end] as [number, number]) : undefined,
      sli: [
        { label: 'SLI', values: sli, color: '#2563eb' },
        { label: 'objective', values: xs.map(() => slo.objective), color: '#dc2626', dash: [6, 4] },
      ],
      budget: [{ label: 'budget left', values: budget, color: '#059669' }],
    };
  }, [slo, span]);
  const minSli = Math.min(slo.objective, ...slo.series.points.flatMap((p) => (p.sli === null ? [] : [p.sli])));
  const lowest = Math.min(0, ...slo.series.points.map((p) => p.budgetRemainingRatio));
  return (
    <>
      <h1>{slo.name}</h1>
      {slo.description && <p>{slo.description}</p>}
      <dl class="facts" data-testid="slo-facts">
        <dt>workflow</dt>
        <dd>{slo.workflow}</dd>
        <dt>owner</dt>
        <dd>{slo.owner}</dd>
        <dt>indicator</dt>
        <dd>{slo.indicator}</dd>
        <dt>window</dt>
        <dd>
          {slo.window} — {time(slo.windowStart)} to {time(slo.at)}
        </dd>
        <dt>SLI</dt>
        <dd data-field="sli">{percent(slo.sli)}</dd>
        <dt>objective</dt>
        <dd data-field="objective">{percent(slo.objective)}</dd>
        <dt>runs</dt>
        <dd data-field="runs">
          {number(slo.runs.total)} counted, {number(slo.runs.bad)} bad (budget allows {number(slo.errorBudget.allowedBad)})
        </dd>
        <dt>budget left</dt>
        <dd data-field="budget">
          <BudgetBar ratio={slo.errorBudget.remainingRatio} /> {number(slo.errorBudget.remainingRuns)} runs
        </dd>
      </dl>
      {slo.series.points.length === 0 ? (
        <p class="muted">No runs counted in this window yet.</p>
      ) : (
        <div class="charts">
          <div class="span-switch" role="group" aria-label="time range">
            <button type="button" class={span === 'window' ? 'small current' : 'small'} onClick={() => setSpan('window')}>
              whole window
            </button>
            <button type="button" class={span === 'runs' ? 'small current' : 'small'} onClick={() => setSpan('runs')} data-testid="span-runs">
              where runs counted
            </button>
            <span class="muted"> drag across a chart to zoom, double-click to reset</span>
          </div>
          <TimeChart testId="sli-chart" title={`SLI per ${slo.series.bucketMinutes} min`} xs={charts.xs} xRange={charts.xRange} series={charts.sli} yRange={[Math.max(0, Math.floor((minSli - 0.005) * 100) / 100), 1]} />
          <TimeChart testId="budget-chart" title="Error budget left, counted from the window's start" xs={charts.xs} xRange={charts.xRange} series={charts.budget} yRange={[Math.min(0, Math.floor(lowest * 10) / 10), 1]} />
        </div>
      )}
      <h2>Burn-rate tiers</h2>
      <table class="list" data-testid="burn-table">
        <thead>
          <tr>
            <th>tier</th>
            <th>severity</th>
            <th class="num">factor</th>
            <th class="num">long window</th>
            <th class="num">short window</th>
            <th class="num">runs (long)</th>
            <th>state</th>
          </tr>
        </thead>
        <tbody>
          {slo.burnRates.map((b) => (
            <tr data-tier={b.tier}>
              <td>{b.tier}</td>
              <td>{b.severity}</td>
              <td class="num">{b.factor.toFixed(2)}×</td>
              <td class="num">
                {b.longBurnRate.toFixed(2)}× / {b.longWindow}
              </td>
              <td class="num">
                {b.shortBurnRate.toFixed(2)}× / {b.shortWindow}
              </td>
              <td class="num">{number(b.runsInLongWindow)}</td>
              <td>{b.firing ? <Badge kind={b.severity === 'page' ? 'bad' : 'warn'}>firing</Badge> : <span class="muted">ok</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
