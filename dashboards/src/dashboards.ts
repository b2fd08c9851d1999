import { DashboardBuilder, DatasourceVariableBuilder, QueryVariableBuilder, RowBuilder, TextBoxVariableBuilder, VariableRefresh, VariableSort, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { GraphThresholdsStyleConfigBuilder, GraphThresholdsStyleMode } from '@grafana/grafana-foundation-sdk/common';
import { CLICKHOUSE } from './clickhouse-query.ts';
import { ALL_QUERIES, INCIDENT_QUERIES, PIPELINE_PROMQL, PIPELINE_QUERIES, SLO_QUERIES, TRACE_QUERIES, WORKFLOW_QUERIES, type PanelQuery } from './queries.ts';
import { barGauge, promTimeSeries, stackedBars, stat, table, timeSeries } from './panels.ts';

/** The five seamwatch dashboards, built with Grafana's typed builders; `npm run dashboards` writes them. */

const datasource = () => new DatasourceVariableBuilder('datasource').label('ClickHouse').type('grafana-clickhouse-datasource');
const database = () =>
  new TextBoxVariableBuilder('database').label('Database').defaultValue('seamwatch').description("seamwatch's ClickHouse database (store.clickhouse.database)");
const workflow = () =>
  new QueryVariableBuilder('workflow')
    .label('Workflow')
    .datasource(CLICKHOUSE)
    .query('SELECT DISTINCT workflow FROM ${database}.runs ORDER BY workflow')
    .refresh(VariableRefresh.OnDashboardLoad)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true);

function base(uid: string, title: string, description: string): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['seamwatch'])
    .time({ from: 'now-24h', to: 'now' })
    .refresh('1m')
    .timezone('utc')
    .editable()
    .withVariable(datasource())
    .withVariable(database());
}

export function sloOverview(): Dashboard {
  const slo = new QueryVariableBuilder('slo')
    .label('SLO')
    .datasource(CLICKHOUSE)
    .query('SELECT slo FROM ${database}.slo_definitions FINAL ORDER BY slo')
    .refresh(VariableRefresh.OnDashboardLoad)
    .multi(true)
    .includeAll(true);
  return base('seamwatch-slo', 'seamwatch · SLO overview', 'Business SLOs: SLI over each window against its objective, error budget left, burn rate per alert tier. Windows end at the time range\'s "to".')
    .withVariable(slo)
    .withRow(new RowBuilder('All SLOs'))
    .withPanel(
      table('SLOs by error budget left', SLO_QUERIES.status, { w: 24, h: 5 }, { column: 'budget_remaining_ratio', desc: false }, 'Each SLO over its own window ending at the range\'s end. Click a header to sort.')
        .overrideByName('sli', [{ id: 'unit', value: 'percentunit' }, { id: 'decimals', value: 3 }])
        .overrideByName('budget_remaining_ratio', [{ id: 'unit', value: 'percentunit' }, { id: 'custom.cellOptions', value: { type: 'color-background' } }])
        .overrideByName('objective', [{ id: 'unit', value: 'percentunit' }]),
    )
    .withRow(new RowBuilder('${slo}').repeat('slo'))
    .withPanel(stat('SLI over the window', SLO_QUERIES.one, 'sli', { w: 4, h: 6 }, 'percentunit', 'Good runs / runs counted, over the SLO window ending at the range\'s end.').decimals(3))
    .withPanel(stat('Objective', SLO_QUERIES.one, 'objective', { w: 3, h: 6 }, 'percentunit'))
    .withPanel(stat('Error budget left', SLO_QUERIES.one, 'budget_remaining_ratio', { w: 4, h: 6 }, 'percentunit', '1 − bad runs / bad runs the objective allows.'))
    .withPanel(stat('Bad runs still allowed', SLO_QUERIES.one, 'budget_remaining_runs', { w: 4, h: 6 }, 'short'))
    .withPanel(timeSeries('SLI per interval vs objective', SLO_QUERIES.sli, { w: 9, h: 6 }, 'percentunit').overrideByName('objective', [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }]))
    .withPanel(
      timeSeries('Burn rate per tier (long window), with its threshold', SLO_QUERIES.burn, { w: 12, h: 8 }, 'x', 'Each tier\'s burn rate over its long window at each time; the dashed series is the tier\'s threshold.')
        .thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Off))
        .overrideByRegexp('/threshold/', [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }]),
    )
    .withPanel(stackedBars('Good and bad runs (by due time)', SLO_QUERIES.goodBad, { w: 12, h: 8 }).overrideByName('bad', [{ id: 'color', value: { mode: 'fixed', fixedColor: 'red' } }]))
    .build();
}

export function workflowHealth(): Dashboard {
  return base('seamwatch-workflows', 'seamwatch · Workflow health', 'Runs by state, completion latency, how far runs get, what fails, dead letters.')
    .withVariable(workflow())
    .withPanel(stackedBars('Runs by state (by start time)', WORKFLOW_QUERIES.runsByState, { w: 24, h: 8 }))
    .withPanel(table('Completion latency per workflow', WORKFLOW_QUERIES.latency, { w: 10, h: 7 }).overrideByRegexp('/p\\d+_s/', [{ id: 'unit', value: 's' }]))
    .withPanel(table('Latency to each step, from the trigger', WORKFLOW_QUERIES.stepLatency, { w: 14, h: 7 }).overrideByRegexp('/p\\d+_s/', [{ id: 'unit', value: 's' }]))
    .withPanel(barGauge('Step funnel: runs that reached each step', WORKFLOW_QUERIES.funnel, { w: 10, h: 9 }))
    .withPanel(table('Top failing steps by error class and code', WORKFLOW_QUERIES.failingSteps, { w: 14, h: 9 }, { column: 'failures', desc: true }))
    .withPanel(table('Dead letters by reason and topic', WORKFLOW_QUERIES.deadLetters, { w: 24, h: 6 }, { column: 'dead_letters', desc: true }))
    .build();
}

export function businessIncidents(): Dashboard {
  return base('seamwatch-incidents', 'seamwatch · Business incidents', 'Alerts from the detectors and SLO burns, what is firing now, duplicates, stuck items, pages.')
    .withPanel(stackedBars('Alerts fired by detector and team', INCIDENT_QUERIES.alertsOverTime, { w: 24, h: 8 }))
    .withPanel(table('Firing now (age at the range\'s end)', INCIDENT_QUERIES.firing, { w: 24, h: 8 }, { column: 'age_s', desc: true }).overrideByName('age_s', [{ id: 'unit', value: 's' }]).overrideByName('fingerprint', [{ id: 'custom.hidden', value: true }]))
    .withPanel(table('Stuck items, oldest first', INCIDENT_QUERIES.stuck, { w: 12, h: 8 }).overrideByName('age_s', [{ id: 'unit', value: 's' }]).overrideByName('fingerprint', [{ id: 'custom.hidden', value: true }]))
    .withPanel(table('Duplicates detected', INCIDENT_QUERIES.duplicates, { w: 12, h: 8 }))
    .withPanel(stackedBars('Notifications sent: triggers and resolves', INCIDENT_QUERIES.pages, { w: 16, h: 8 }))
    .withPanel(table('Pages per receiver', INCIDENT_QUERIES.pageTotals, { w: 8, h: 8 }))
    .build();
}

export function traceLookup(): Dashboard {
  const id = new TextBoxVariableBuilder('correlation_id').label('Correlation ID').defaultValue('');
  return base('seamwatch-trace', 'seamwatch · Trace lookup', 'Every event and step of one correlation ID across systems, in time order, with the run\'s verdict.')
    .withVariable(id)
    .withPanel(table('Verdict', TRACE_QUERIES.verdict, { w: 24, h: 5 }).overrideByName('duration_s', [{ id: 'unit', value: 's' }]))
    .withPanel(table('Steps in time order', TRACE_QUERIES.steps, { w: 24, h: 8 }).overrideByRegexp('/_s$/', [{ id: 'unit', value: 's' }]))
    .withPanel(table('Events in time order', TRACE_QUERIES.events, { w: 24, h: 10 }))
    .withPanel(table('Alerts about it', TRACE_QUERIES.alerts, { w: 24, h: 6 }))
    .build();
}

export function pipelineHealth(): Dashboard {
  const prometheus = new DatasourceVariableBuilder('prometheus').label('Prometheus (scraping /metrics)').type('prometheus');
  return base('seamwatch-pipeline', 'seamwatch · Pipeline health', 'Intake and event lag from ClickHouse; flush latency, back-pressure and buffers from /metrics through Prometheus.')
    .withVariable(prometheus)
    .withRow(new RowBuilder('From ClickHouse'))
    .withPanel(timeSeries('Intake rate by source (by receive time)', PIPELINE_QUERIES.intake, { w: 12, h: 8 }, 'reqps'))
    .withPanel(timeSeries('Event lag: received − event time', PIPELINE_QUERIES.lag, { w: 12, h: 8 }, 's'))
    .withPanel(stackedBars('Dead letters by reason', PIPELINE_QUERIES.deadLetters, { w: 24, h: 7 }))
    .withRow(new RowBuilder('From /metrics (Prometheus data source)'))
    .withPanel(promTimeSeries('Store flush latency p95', PIPELINE_PROMQL.flushLatency, 'p95', { w: 8, h: 8 }, 's'))
    .withPanel(promTimeSeries('Back-pressure waits', PIPELINE_PROMQL.backpressure, 'waits/s', { w: 8, h: 8 }, 'short'))
    .withPanel(promTimeSeries('Rows buffered for the store', PIPELINE_PROMQL.bufferedRows, 'rows', { w: 8, h: 8 }, 'short'))
    .withPanel(promTimeSeries('Watermark lag', PIPELINE_PROMQL.watermarkLag, 'lag', { w: 8, h: 8 }, 's'))
    .withPanel(promTimeSeries('Store errors', PIPELINE_PROMQL.storeErrors, 'retryable={{retryable}}', { w: 8, h: 8 }, 'short'))
    .withPanel(promTimeSeries('Alert history rows dropped', PIPELINE_PROMQL.historyDropped, '{{table}}', { w: 8, h: 8 }, 'short'))
    .build();
}

/** File name → dashboard, as `npm run dashboards` writes them under dashboards/json/. */
export function allDashboards(): Record<string, Dashboard> {
  return {
    'slo-overview.json': sloOverview(),
    'workflow-health.json': workflowHealth(),
    'business-incidents.json': businessIncidents(),
    'trace-lookup.json': traceLookup(),
    'pipeline-health.json': pipelineHealth(),
  };
}

/** The JSON text of a dashboard file: stable, so a diff shows what changed. */
export function dashboardJson(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}

/** Every ClickHouse query in the built dashboards, matched back to queries.ts by its SQL. */
export function panelQueriesOf(dashboards: readonly Dashboard[] = Object.values(allDashboards())): PanelQuery[] {
  const found: PanelQuery[] = [];
  for (const dashboard of dashboards) {
    for (const panel of dashboard.panels ?? []) {
      for (const target of ('targets' in panel ? (panel.targets ?? []) : []) as { rawSql?: string }[]) {
        if (target.rawSql === undefined) continue;
        const query = ALL_QUERIES.find((q) => q.sql.trim() === target.rawSql);
        if (!query) throw new Error(`a panel's SQL is not in dashboards/src/queries.ts: ${target.rawSql.slice(0, 80)}`);
        if (!found.includes(query)) found.push(query);
      }
    }
  }
  return found;
}

/** The SQL of every query variable (workflow, slo), which Grafana runs through the plugin too. */
export function variableQueriesOf(dashboards: readonly Dashboard[] = Object.values(allDashboards())): string[] {
  return [...new Set(dashboards.flatMap((d) => (d.templating?.list ?? []).filter((v) => v.type === 'query').map((v) => String(v.query))))];
}
