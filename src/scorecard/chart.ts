import sharp from 'sharp';
import * as vega from 'vega';
import { compile } from 'vega-lite';

/**
 * An SLO's weekly attainment as a small PNG: mail clients drop SVG, so vega-lite's SVG is
 * rasterised by sharp (libvips). Drawn at twice the shown size for sharp screens.
 */
export async function trendPng(points: readonly { week: string; sli: number | null }[], objective: number): Promise<Buffer> {
  const values = points.filter((p) => p.sli !== null).map((p) => ({ week: p.week, sli: p.sli! * 100, below: p.sli! < objective }));
  const all = [...values.map((v) => v.sli), objective * 100];
  const low = Math.min(...all);
  const high = Math.max(...all);
  const pad = Math.max(0.05, (high - low) * 0.15);
  const domain = [Math.max(0, low - pad), Math.min(100, high + pad)];
  const x = { field: 'week', type: 'ordinal' as const, axis: null, sort: points.map((p) => p.week), scale: { domain: points.map((p) => p.week) } };
  const y = { field: 'sli', type: 'quantitative' as const, axis: null, scale: { domain, zero: false } };
  const spec = compile({
    width: 160,
    height: 48,
    padding: 4,
    background: 'white',
    config: { view: { stroke: null } },
    layer: [
      { data: { values: [{ objective: objective * 100 }] }, mark: { type: 'rule', strokeDash: [3, 2], color: '#9ca3af' }, encoding: { y: { field: 'objective', type: 'quantitative', axis: null, scale: { domain, zero: false } } } },
      { data: { values }, mark: { type: 'line', color: '#4f46e5', strokeWidth: 2 }, encoding: { x, y } },
      {
        data: { values },
        mark: { type: 'point', filled: true, size: 30 },
        encoding: { x, y, color: { field: 'below', type: 'nominal', legend: null, scale: { domain: [false, true], range: ['#047857', '#b91c1c'] } } },
      },
    ],
  } as Parameters<typeof compile>[0]).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  const svg = await view.toSVG(2);
  view.finalize();
  return sharp(Buffer.from(svg)).png().toBuffer();
}
