import type { SloListItem, SloView } from '../api.ts';
import { Badge, Freshness, Load } from '../common.tsx';
import { number, percent } from '../format.ts';
import { Link, sloHref } from '../router.tsx';
import { useApi } from '../use-api.ts';

const evaluated = (s: SloListItem): s is SloView => 'sli' in s;

/** Every SLO: SLI against objective, error budget left, and the burn-rate tiers firing now. */
export function SlosPage() {
  const loaded = useApi<{ slos: SloListItem[] }>('/api/v1/slos');
  return (
    <section>
      <h1>Service level objectives</h1>
      <Freshness loaded={loaded} />
      <Load loaded={loaded}>
        {({ slos }) =>
          slos.length === 0 ? (
            <p class="muted">No SLOs are configured (the <code>slos:</code> section).</p>
          ) : (
            <table class="list" data-testid="slo-table">
              <thead>
                <tr>
                  <th>SLO</th>
                  <th>workflow</th>
                  <th>owner</th>
                  <th class="num">SLI</th>
                  <th class="num">objective</th>
                  <th class="num">budget left</th>
                  <th class="num">runs (bad)</th>
                  <th>firing</th>
                </tr>
              </thead>
              <tbody>
                {slos.map((s) => (
                  <tr data-slo={s.name}>
                    <td>
                      <Link href={sloHref(s.name)}>{s.name}</Link>
                    </td>
                    <td>{s.workflow}</td>
                    <td>{s.owner}</td>
                    {evaluated(s) ? (
                      <>
                        <td class="num" data-field="sli">{percent(s.sli)}</td>
                        <td class="num" data-field="objective">{percent(s.objective)}</td>
                        <td class="num" data-field="budget">
                          <BudgetBar ratio={s.errorBudget.remainingRatio} />
                        </td>
                        <td class="num" data-field="runs">
                          {number(s.runs.total)} ({number(s.runs.bad)})
                        </td>
                        <td data-field="firing">
                          {s.burnRates.filter((b) => b.firing).map((b) => (
                            <Badge kind={b.severity === 'page' ? 'bad' : 'warn'} title={`burn ${b.longBurnRate.toFixed(1)}× over ${b.longWindow}, ${b.shortBurnRate.toFixed(1)}× over ${b.shortWindow}`}>
                              {b.tier}
                            </Badge>
                          ))}
                        </td>
                      </>
                    ) : (
                      <td colSpan={5} class="muted">
                        {s.status}
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Load>
    </section>
  );
}

export function BudgetBar(props: { ratio: number }) {
  const clamped = Math.max(0, Math.min(1, props.ratio));
  const kind = props.ratio <= 0 ? 'bad' : props.ratio < 0.25 ? 'warn' : 'good';
  return (
    <span class="budget">
      <span class="budget-text">{percent(props.ratio, 1)}</span>
      <svg class={props.ratio <= 0 ? 'budget-bar exhausted' : 'budget-bar'} width="60" height="8" viewBox="0 0 60 8" aria-hidden="true">
        <rect width="60" height="8" rx="2" class="budget-track" />
        <rect width={60 * clamped} height="8" rx="2" class={`budget-fill fill-${kind}`} />
      </svg>
    </span>
  );
}
