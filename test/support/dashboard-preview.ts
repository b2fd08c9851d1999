import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';

/**
 * A rough HTML preview of a dashboard: panels placed by their gridPos, each showing its title
 * and the rows its query returned (time series as lines). Not Grafana's rendering: it shows
 * layout and data, so a person can look at both without a Grafana server.
 */
export interface PreviewResult {
  meta: { name: string; type: string }[];
  data: Record<string, unknown>[];
}

const UNIT = 34;
const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const COLORS = ['#73bf69', '#f2495c', '#5794f2', '#ff9830', '#b877d9', '#fade2a', '#8ab8ff', '#ff7383'];

function lines(result: PreviewResult, w: number, h: number): string {
  const [time, ...rest] = result.meta;
  const labels = rest.filter((m) => m.type === 'String').map((m) => m.name);
  const values = rest.filter((m) => m.type !== 'String').map((m) => m.name);
  const series = new Map<string, [number, number][]>();
  for (const row of result.data) {
    const t = Date.parse(`${String(row[time!.name]).replace(' ', 'T')}Z`);
    for (const v of values) {
      const key = [...labels.map((l) => String(row[l])), v].join(' ');
      series.set(key, [...(series.get(key) ?? []), [t, Number(row[v])]]);
    }
  }
  const all = [...series.values()].flat();
  if (all.length === 0) return '<div class="empty">No data</div>';
  const [t0, t1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  const [v0, v1] = [Math.min(0, ...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  const x = (t: number) => (t1 === t0 ? w / 2 : ((t - t0) / (t1 - t0)) * (w - 20) + 10);
  const y = (v: number) => (v1 === v0 ? h / 2 : h - 10 - ((v - v0) / (v1 - v0)) * (h - 20));
  const paths = [...series].map(([, points], i) => {
    const color = COLORS[i % COLORS.length];
    const d = points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    return points.length === 1
      ? `<circle cx="${x(points[0]![0])}" cy="${y(points[0]![1])}" r="3" fill="${color}"/>`
      : `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${d}"/>`;
  });
  const legend = [...series.keys()].map((k, i) => `<span style="color:${COLORS[i % COLORS.length]}">■ ${esc(k)}</span>`).join(' ');
  return `<svg width="${w}" height="${h}">${paths.join('')}<text x="2" y="12" class="axis">${v1.toPrecision(3)}</text><text x="2" y="${h - 2}" class="axis">${v0.toPrecision(3)}</text></svg><div class="legend">${legend}</div>`;
}

function table(result: PreviewResult): string {
  if (result.data.length === 0) return '<div class="empty">No data</div>';
  const head = result.meta.map((m) => `<th>${esc(m.name)}</th>`).join('');
  const body = result.data.slice(0, 12).map((r) => `<tr>${result.meta.map((m) => `<td>${esc(typeof r[m.name] === 'number' ? Number(r[m.name]).toPrecision(4) : r[m.name])}</td>`).join('')}</tr>`).join('');
  return `<table><tr>${head}</tr>${body}</table>`;
}

function stat(result: PreviewResult, field: string): string {
  const value = result.data[0]?.[field];
  return `<div class="stat">${value === undefined || value === null ? 'No data' : esc(Number(value).toPrecision(4))}</div>`;
}

export function previewHtml(dashboard: Dashboard, results: (rawSql: string) => PreviewResult | undefined, substitutions: Record<string, string>): string {
  const width = 1600;
  const col = width / 24;
  const sub = (s: string) => Object.entries(substitutions).reduce((t, [k, v]) => t.split(`\${${k}}`).join(v), s);
  const panels = (dashboard.panels ?? []).map((p) => {
    const panel = p as { type: string; title?: string; gridPos?: { x: number; y: number; w: number; h: number }; targets?: { rawSql?: string; expr?: string }[]; options?: { reduceOptions?: { fields?: string } } };
    const g = panel.gridPos ?? { x: 0, y: 0, w: 24, h: 1 };
    const style = `left:${g.x * col}px;top:${g.y * UNIT}px;width:${g.w * col - 8}px;height:${g.h * UNIT - 8}px`;
    if (panel.type === 'row') return `<div class="row" style="${style}">${esc(sub(panel.title ?? ''))}</div>`;
    const target = panel.targets?.[0];
    let body: string;
    if (target?.expr) body = `<div class="empty">Prometheus: <code>${esc(target.expr)}</code></div>`;
    else {
      const result = results(target?.rawSql ?? '');
      if (!result) body = '<div class="empty">not run</div>';
      else if (panel.type === 'timeseries') body = lines(result, g.w * col - 24, g.h * UNIT - 70);
      else if (panel.type === 'stat') body = stat(result, (panel.options?.reduceOptions?.fields ?? '').replace(/^\/\^|\$\/$/g, ''));
      else body = table(result);
    }
    return `<div class="panel" style="${style}"><div class="title">${esc(panel.title ?? '')}</div>${body}</div>`;
  });
  const height = Math.max(...(dashboard.panels ?? []).map((p) => ((p as { gridPos?: { y: number; h: number } }).gridPos?.y ?? 0) + ((p as { gridPos?: { h: number } }).gridPos?.h ?? 1))) * UNIT + 60;
  return `<!doctype html><html><head><meta charset="utf-8"><style>
body{background:#111217;color:#ccccdc;font:12px sans-serif;margin:0}
h1{font-size:16px;margin:8px 12px}
.grid{position:relative;margin:0 8px;height:${height}px}
.panel{position:absolute;background:#181b1f;border:1px solid #2c3235;border-radius:3px;overflow:hidden;padding:4px}
.row{position:absolute;font-weight:bold;font-size:14px;border-bottom:1px solid #2c3235}
.title{font-weight:600;margin-bottom:4px}
table{border-collapse:collapse;font-size:11px}td,th{border-bottom:1px solid #2c3235;padding:2px 6px;text-align:left;white-space:nowrap}
.stat{font-size:36px;color:#73bf69;text-align:center;margin-top:20px}
.empty{color:#8e8e8e;margin:8px}.legend{font-size:11px}.axis{fill:#8e8e8e;font-size:10px}
</style></head><body><h1>${esc(dashboard.title ?? '')} — preview (not Grafana)</h1><div class="grid">${panels.join('')}</div></body></html>`;
}
