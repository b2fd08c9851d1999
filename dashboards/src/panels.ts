import { PanelBuilder as TimeSeries } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as Table } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as Stat } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as BarGauge } from '@grafana/grafana-foundation-sdk/bargauge';
import { DataqueryBuilder as PromQuery } from '@grafana/grafana-foundation-sdk/prometheus';
import { GraphDrawStyle, ReduceDataOptionsBuilder, StackingConfigBuilder, StackingMode, TableSortByFieldStateBuilder, VizOrientation } from '@grafana/grafana-foundation-sdk/common';
import { ClickHouseQueryBuilder, CLICKHOUSE, PROMETHEUS } from './clickhouse-query.ts';
import type { PanelQuery } from './queries.ts';

/** Small helpers over the typed builders: one panel per query, sized on a 24-column grid. */

interface Size {
  w: number;
  h: number;
}

export function timeSeries(title: string, query: PanelQuery, size: Size, unit = 'short', description = ''): TimeSeries {
  return new TimeSeries()
    .title(title)
    .description(description)
    .datasource(CLICKHOUSE)
    .withTarget(new ClickHouseQueryBuilder(query))
    .unit(unit)
    .span(size.w)
    .height(size.h);
}

export function stackedBars(title: string, query: PanelQuery, size: Size, description = ''): TimeSeries {
  return timeSeries(title, query, size, 'short', description)
    .drawStyle(GraphDrawStyle.Bars)
    .fillOpacity(80)
    .stacking(new StackingConfigBuilder().mode(StackingMode.Normal));
}

export function table(title: string, query: PanelQuery, size: Size, sortBy?: { column: string; desc: boolean }, description = ''): Table {
  const panel = new Table().title(title).description(description).datasource(CLICKHOUSE).withTarget(new ClickHouseQueryBuilder(query)).span(size.w).height(size.h);
  return sortBy ? panel.sortBy([new TableSortByFieldStateBuilder().displayName(sortBy.column).desc(sortBy.desc)]) : panel;
}

export function stat(title: string, query: PanelQuery, field: string, size: Size, unit: string, description = ''): Stat {
  return new Stat()
    .title(title)
    .description(description)
    .datasource(CLICKHOUSE)
    .withTarget(new ClickHouseQueryBuilder(query))
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields(`/^${field}$/`))
    .unit(unit)
    .span(size.w)
    .height(size.h);
}

export function barGauge(title: string, query: PanelQuery, size: Size, description = ''): BarGauge {
  return new BarGauge()
    .title(title)
    .description(description)
    .datasource(CLICKHOUSE)
    .withTarget(new ClickHouseQueryBuilder(query))
    .orientation(VizOrientation.Horizontal)
    .reduceOptions(new ReduceDataOptionsBuilder().values(true).calcs([]))
    .span(size.w)
    .height(size.h);
}

/** A panel fed by seamwatch's /metrics through a Prometheus data source. */
export function promTimeSeries(title: string, expr: string, legend: string, size: Size, unit: string, description = ''): TimeSeries {
  return new TimeSeries()
    .title(title)
    .description(description)
    .datasource(PROMETHEUS)
    .withTarget(new PromQuery().expr(expr).legendFormat(legend).datasource(PROMETHEUS))
    .unit(unit)
    .span(size.w)
    .height(size.h);
}
