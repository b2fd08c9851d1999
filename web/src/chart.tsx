import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface LineSeries {
  label: string;
  values: (number | null)[];
  color: string;
  dash?: number[];
}

/** A small time-series chart (uPlot on a canvas): x in epoch seconds (shown in UTC), y as a percentage of 1. */
export function TimeChart(props: { title: string; xs: number[]; series: LineSeries[]; xRange?: [number, number]; yRange?: [number, number]; height?: number; testId: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(320, el.clientWidth);
    const plot = new uPlot(
      {
        title: props.title,
        width,
        height: props.height ?? 220,
        scales: { x: props.xRange ? { time: true, range: props.xRange } : { time: true }, y: props.yRange ? { range: props.yRange } : { auto: true } },
        axes: [{}, { values: (_u, ticks) => ticks.map((t) => `${(t * 100).toFixed(Math.abs(t * 100) >= 10 || t === 0 ? 0 : 1)}%`), size: 64 }],
        // Times in UTC, as everywhere else on the page and in the API.
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        // Values appear when hovering; at rest the legend only names the lines.
        legend: { live: false },
        series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: true, ...(s.dash ? { dash: s.dash } : {}), value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(2)}%`) }))],
      },
      [props.xs, ...props.series.map((s) => s.values)],
      el,
    );
    return () => plot.destroy();
  }, [props.xs, props.series, props.title, props.xRange?.[0], props.xRange?.[1]]);
  return <div class="chart" ref={box} data-testid={props.testId} />;
}
