import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/dashboard';
import type { PanelQuery } from './queries.ts';

/**
 * A query of the official ClickHouse plugin (grafana-clickhouse-datasource), in its SQL editor:
 * the fields its src/types/sql.ts (CHSqlQuery) defines, and `format` as grafana/sqlds reads it
 * (0 time series: long frames turned wide by their string columns; 1 table).
 */
export interface ClickHouseSqlQuery {
  refId?: string;
  hide?: boolean;
  datasource?: DataSourceRef;
  editorType: 'sql';
  queryType: 'table' | 'timeSeries';
  format: 0 | 1;
  rawSql: string;
  _implementsDataqueryVariant(): void;
}

/** The data source every ClickHouse panel uses: the dashboard's `datasource` variable. */
export const CLICKHOUSE: DataSourceRef = { type: 'grafana-clickhouse-datasource', uid: '${datasource}' };
export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: '${prometheus}' };

export class ClickHouseQueryBuilder implements Builder<Dataquery> {
  private readonly internal: ClickHouseSqlQuery;

  constructor(query: PanelQuery, refId = 'A') {
    this.internal = {
      refId,
      datasource: CLICKHOUSE,
      editorType: 'sql',
      queryType: query.format === 'timeseries' ? 'timeSeries' : 'table',
      format: query.format === 'timeseries' ? 0 : 1,
      rawSql: query.sql.trim(),
      _implementsDataqueryVariant() {},
    };
  }

  build(): ClickHouseSqlQuery {
    return this.internal;
  }
}
