import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { allDashboards, dashboardJson, panelQueriesOf } from '../../dashboards/src/dashboards.ts';
import { ALL_QUERIES } from '../../dashboards/src/queries.ts';
import { applyTemplateVariables, expandMacros, expandPanelSql } from '../support/grafana-clickhouse.ts';

const JSON_DIR = join(import.meta.dirname, '../../dashboards/json');

describe('Grafana dashboards', () => {
  it('the committed JSON is exactly what the typed builders produce (run npm run dashboards after a change)', () => {
    const built = allDashboards();
    expect(readdirSync(JSON_DIR).filter((f) => f.endsWith('.json')).sort()).toEqual(Object.keys(built).sort());
    for (const [file, dashboard] of Object.entries(built)) expect(readFileSync(join(JSON_DIR, file), 'utf8'), file).toBe(dashboardJson(dashboard));
  });

  it('every ClickHouse panel uses the datasource variable and SQL from queries.ts, and every query there is on a panel', () => {
    for (const dashboard of Object.values(allDashboards())) {
      for (const panel of dashboard.panels ?? []) {
        if (panel.type === 'row') continue;
        const ds = (panel as { datasource?: { type?: string; uid?: string } }).datasource;
        expect(['${datasource}', '${prometheus}'], `${dashboard.title}: ${String((panel as { title?: string }).title)}`).toContain(ds?.uid);
      }
    }
    expect(panelQueriesOf().length).toBe(ALL_QUERIES.length);
  });

  it('dashboard uids are stable and distinct, so provisioning and links find them', () => {
    const uids = Object.values(allDashboards()).map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    expect(uids).toEqual(['seamwatch-slo', 'seamwatch-workflows', 'seamwatch-incidents', 'seamwatch-trace', 'seamwatch-pipeline']);
  });
});

describe('Grafana ClickHouse plugin expansion, as its macros.go and sqlds do it', () => {
  const range = { from: Date.UTC(2026, 10, 20, 9, 0, 0, 500), to: Date.UTC(2026, 10, 20, 10, 0, 0, 999), intervalMs: 30_000 };

  it('expands the time macros to whole epoch seconds and the interval to whole seconds, at least 1', () => {
    expect(expandMacros('WHERE $__timeFilter(at) AND x > $__fromTime AND y < $__toTime', range)).toBe(
      'WHERE at >= toDateTime(1795165200) AND at <= toDateTime(1795168800) AND x > toDateTime(1795165200) AND y < toDateTime(1795168800)',
    );
    expect(expandMacros('intDiv(t, $__interval_s) * $__interval_s', range)).toBe('intDiv(t, 30) * 30');
    expect(expandMacros('$__interval_s', { ...range, intervalMs: 200 })).toBe('1');
    expect(expandMacros('$__timeInterval(at)', range)).toBe('toStartOfInterval(toDateTime(at), INTERVAL 30 second)');
  });

  it('inserts single values as they are and lists quoted and comma-joined, like the plugin format function', () => {
    expect(applyTemplateVariables("FROM ${database}.runs WHERE workflow IN (${workflow}) AND id = '$id'", { database: 'sw', workflow: ['a', 'b'], id: 'c-1' })).toBe(
      "FROM sw.runs WHERE workflow IN ('a','b') AND id = 'c-1'",
    );
    expect(() => applyTemplateVariables('${nope}', {})).toThrow(/nope/);
    expect(applyTemplateVariables('$__interval_s $__fromTime', {})).toBe('$__interval_s $__fromTime');
  });

  it('variables first, then macros, leaving no $ in any panel SQL', () => {
    for (const q of ALL_QUERIES) {
      const sql = expandPanelSql(q.sql, range, { database: 'sw', workflow: ['a'], slo: 's', correlation_id: 'c' });
      expect(sql, q.id).not.toContain('$');
    }
  });
});

describe('Grafana provisioning files', () => {
  const read = (path: string) => parse(readFileSync(join(import.meta.dirname, '../../dashboards/provisioning', path), 'utf8')) as Record<string, unknown>;

  it('declare the ClickHouse plugin over HTTP with the database from the environment, and a file provider', () => {
    const { datasources } = read('datasources/seamwatch.yaml') as { datasources: { type: string; uid: string; jsonData?: Record<string, unknown> }[] };
    const ch = datasources.find((d) => d.type === 'grafana-clickhouse-datasource')!;
    expect(ch.jsonData).toMatchObject({ protocol: 'http', defaultDatabase: '${SEAMWATCH_CLICKHOUSE_DATABASE}' });
    expect(datasources.map((d) => d.type)).toEqual(['grafana-clickhouse-datasource', 'prometheus']);
    const { providers } = read('dashboards/seamwatch.yaml') as { providers: { type: string; options: { path: string } }[] };
    expect(providers[0]).toMatchObject({ type: 'file' });
  });
});
