/**
 * What Grafana and its ClickHouse plugin (grafana-clickhouse-datasource) do to a panel's SQL
 * before ClickHouse sees it, re-done here so a test can run the exact text:
 *
 * 1. The plugin's frontend, `applyTemplateVariables`, calls Grafana's templateSrv.replace with
 *    the plugin's own format function: an array value becomes 'a','b' (quoted, comma-joined),
 *    a single value is inserted as it is. `${name}` and `$name` are both variables.
 * 2. The plugin's Go backend (pkg/macros/macros.go over grafana/sqlds' interpolate) replaces
 *    each macro with the regex `\$__name(?:\((.*?)\))?`, arguments split on commas and trimmed:
 *    $__fromTime → toDateTime(<from epoch s>), $__toTime → toDateTime(<to epoch s>),
 *    $__timeFilter(c) → c >= toDateTime(<from s>) AND c <= toDateTime(<to s>),
 *    $__interval_s → max(interval seconds, 1) as an integer. Go iterates its macro map in random
 *    order; the test checks that the order does not change what a panel's SQL becomes.
 */

export interface GrafanaRange {
  from: number;
  to: number;
  /** Grafana's computed interval for the panel (ms). */
  intervalMs: number;
}

export type VariableValues = Record<string, string | string[]>;

/** Grafana's templateSrv.replace with the ClickHouse plugin's format function. */
export function applyTemplateVariables(sql: string, variables: VariableValues): string {
  return sql.replace(/\$\{(\w+)(?::(\w+))?\}|\$(\w+)/g, (whole, braced: string | undefined, format: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    // Grafana's own $__ variables ($__interval, …) and the plugin's macros are not template variables.
    if (name.startsWith('__')) return whole;
    if (format) throw new Error(`variable format ${format} is not emulated; panels use the plugin's default format`);
    const value = variables[name];
    if (value === undefined) throw new Error(`panel SQL uses the template variable ${whole}, which the test does not set`);
    return Array.isArray(value) ? `'${value.join("','")}'` : value;
  });
}

type Macro = (range: GrafanaRange, args: string[]) => string;

const toDateTime = (ms: number) => `toDateTime(${Math.floor(ms / 1000)})`;

const MACROS: Record<string, Macro> = {
  fromTime: (r) => toDateTime(r.from),
  toTime: (r) => toDateTime(r.to),
  fromTime_ms: (r) => `fromUnixTimestamp64Milli(${Math.floor(r.from)})`,
  toTime_ms: (r) => `fromUnixTimestamp64Milli(${Math.floor(r.to)})`,
  timeFilter: (r, args) => {
    if (args.length !== 1) throw new Error(`$__timeFilter: expected 1 argument, received ${args.length}`);
    return `${args[0]} >= ${toDateTime(r.from)} AND ${args[0]} <= ${toDateTime(r.to)}`;
  },
  timeInterval: (r, args) => `toStartOfInterval(toDateTime(${args[0]}), INTERVAL ${Math.max(Math.trunc(r.intervalMs / 1000), 1)} second)`,
  interval_s: (r) => String(Math.max(Math.trunc(r.intervalMs / 1000), 1)),
};

/** sqlds' interpolate with the ClickHouse plugin's macros, in the given macro order. */
export function expandMacros(sql: string, range: GrafanaRange, order: readonly string[] = Object.keys(MACROS)): string {
  let out = sql;
  for (const name of order) {
    const macro = MACROS[name]!;
    const matches = [...out.matchAll(new RegExp(`\\$__${name}(?:\\((.*?)\\))?`, 'g'))];
    for (const match of matches) {
      const args = match[1] === undefined ? [] : match[1].split(',').map((a) => a.trim());
      out = out.split(match[0]).join(macro(range, args));
    }
  }
  return out;
}

export const MACRO_NAMES = Object.keys(MACROS);

/** The SQL ClickHouse receives for a panel: variables first (frontend), then macros (backend). */
export function expandPanelSql(sql: string, range: GrafanaRange, variables: VariableValues, order?: readonly string[]): string {
  return expandMacros(applyTemplateVariables(sql, variables), range, order);
}
