import { formatDuration } from '../domain/duration.ts';
import type { SeamwatchConfig } from '../config/schema.ts';
import { evaluateAt } from '../slo/evaluate.ts';
import type { SloStatus } from '../slo/types.ts';
import { describeWindow } from '../slo/view.ts';
import { windowStart } from '../slo/window.ts';
import type { Store } from '../domain/store.ts';

const MINUTE = 60_000;

/** Every SLO's status at one moment, straight from the store (no Kafka needed). */
export async function sloStatuses(config: SeamwatchConfig, store: Store, at: number): Promise<SloStatus[]> {
  const end = Math.floor(at / MINUTE) * MINUTE;
  const slos = config.slos;
  const longest = (i: number) => Math.max(MINUTE, ...slos[i]!.alerting.tiers.map((t) => t.longWindowMs));
  const [series, budgets] = await Promise.all([
    store.sloMinutes(slos.map((slo, i) => ({ slo: slo.name, fromMinute: (end - longest(i)) / MINUTE, toMinute: end / MINUTE }))),
    store.sloCounts(slos.map((slo) => ({ slo: slo.name, fromMinute: Math.ceil(windowStart(slo.window, end) / MINUTE), toMinute: end / MINUTE }))),
  ]);
  return slos.map((slo) => evaluateAt(slo, series.get(slo.name) ?? [], budgets.get(slo.name) ?? { good: 0, total: 0 }, end, new Set()).status);
}

const percent = (value: number | null, digits = 3) => (value === null ? '—' : `${(value * 100).toFixed(digits)}%`);

/** A plain-text table, one line per SLO. */
export function formatStatusTable(statuses: readonly SloStatus[]): string {
  const header = ['SLO', 'workflow', 'objective', 'window', 'SLI', 'runs', 'bad', 'budget left', 'burn rates (long/short)', 'alerts'];
  const rows = statuses.map((s) => [
    s.slo.name,
    s.slo.workflow,
    percent(s.slo.objective, 2),
    describeWindow(s.slo),
    percent(s.budget.sli),
    String(s.budget.total),
    String(s.budget.bad),
    percent(s.budget.remainingRatio, 1),
    s.burns
      .map((b) => `${formatDuration(b.tier.longWindowMs)}/${formatDuration(b.tier.shortWindowMs)} ${b.longBurnRate.toFixed(1)}/${b.shortBurnRate.toFixed(1)}`)
      .join('  '),
    s.burns.filter((b) => b.firing).map((b) => `${b.tier.name} (${b.tier.severity})`).join(', ') || 'none',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
