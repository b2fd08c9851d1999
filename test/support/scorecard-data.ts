import type { ScorecardData } from '../../src/scorecard/model.ts';
import type { SloDefinition } from '../../src/slo/types.ts';
import { isoWeek, shiftWeek } from '../../src/scorecard/week.ts';

/** Hostile strings, as event data could carry them. */
export const HOSTILE = {
  script: '<script>alert("x")</script><img src=x onerror=alert(1)>',
  longId: `c-${'9'.repeat(5_000)}`,
  newline: 'card_declined\r\nBcc: victim@example.com',
  bidi: 'invoice\u202Egnp.exe',
};

export function slo(name: string, objective: number): SloDefinition {
  return {
    name,
    workflow: 'plan-upgrade',
    owner: 'billing-platform',
    objective,
    window: { kind: 'rolling', durationMs: 28 * 86_400_000 },
    indicator: { kind: 'success-ratio' },
    alerting: { tiers: [], minEvents: 20 },
    origin: 'test',
  };
}

/** A realistic week for billing-platform, W47 of 2026 in Berlin; `hostile` puts hostile strings where event data goes. */
export function weekData(hostile = false): ScorecardData {
  const week = isoWeek('2026-W47', 'Europe/Berlin');
  const weeks = (sli: number[]) => sli.map((s, i) => ({ label: shiftWeek(week, i - 7).label, counts: { good: Math.round(s * 1000), total: 1000 } }));
  const code = hostile ? HOSTILE.newline : 'card_declined';
  const corr = hostile ? HOSTILE.longId : 'c-up-1005';
  return {
    team: 'billing-platform',
    week,
    at: week.to + 9 * 3_600_000,
    slos: [
      { slo: slo('upgrade-sync-5m', 0.999), weeks: weeks([0.9995, 0.9992, 0.9997, 0.999, 0.9994, 0.9991, 0.9996, 0.9971]), windowCounts: { good: 3971, total: 4000 } },
      { slo: slo('upgrade-success', 0.99), weeks: weeks([0.992, 0.991, 0.994, 0.993, 0.995, 0.992, 0.991, 0.993]), windowCounts: { good: 3970, total: 4000 } },
    ],
    runs: [{ workflow: 'plan-upgrade', runs: 1000, completed: 980, failed: 12, deadlineMissed: 5, compensated: 3, open: 0, p50Ms: 21_000, p95Ms: 48_000 }],
    previousRuns: [{ workflow: 'plan-upgrade', runs: 950, completed: 940, failed: 5, deadlineMissed: 5, compensated: 0, open: 0, p50Ms: 20_000, p95Ms: 40_000 }],
    slowSteps: [
      { workflow: 'plan-upgrade', step: 'entitlement-activated', count: 980, p50Ms: 10_000, p95Ms: 340_000 },
      { workflow: 'plan-upgrade', step: 'invoice-updated', count: 990, p50Ms: 10_000, p95Ms: 12_000 },
    ],
    failures: [
      { workflow: 'plan-upgrade', step: hostile ? HOSTILE.script : 'entitlement-activated', errorClass: 'permanent', errorCode: code, count: 12, exampleCorrelationId: corr },
      { workflow: 'plan-upgrade', step: 'invoice-updated', errorClass: '', errorCode: '', count: 2, exampleCorrelationId: 'c-up-77' },
    ],
    deadLetters: [{ topic: 'billing.events', source: 'billing', reason: hostile ? HOSTILE.script : 'mapping-failed', count: 4 }],
    incidents: {
      alerts: [
        { kind: 'duplicate', detector: 'duplicate-invoice', workflow: 'plan-upgrade', summary: hostile ? HOSTILE.script : 'Customer cus_42 was invoiced twice for 2026-11', correlationId: corr, startsAt: week.from + 86_400_000, endsAt: week.from + 86_400_000 + 600_000, paged: true },
        { kind: 'stuck', detector: 'stuck-ticket', workflow: 'support-ticket', summary: 'Ticket T-9 has not moved for 26h', correlationId: 'c-tk-9', startsAt: week.from + 2 * 86_400_000, endsAt: 0, paged: true },
        { kind: 'partial-failure', detector: 'charged-not-entitled', workflow: 'plan-upgrade', summary: hostile ? HOSTILE.bidi : 'Charged but not entitled: cus_7', correlationId: 'c-up-7', startsAt: week.from + 3 * 86_400_000, endsAt: week.from + 3 * 86_400_000 + 1_800_000, paged: false },
      ],
      silences: [
        { id: 's-1', matchers: 'team="billing-platform"', createdBy: hostile ? HOSTILE.script : 'alice', comment: 'migration INC-12', startsAt: week.from - 20 * 86_400_000, endsAt: week.to + 30 * 86_400_000 },
      ],
    },
    traceUrlBase: 'https://seamwatch.example.com/api/v1/traces/',
  };
}

/** The same team and week with nothing in it. */
export function emptyWeekData(): ScorecardData {
  const data = weekData();
  return {
    ...data,
    slos: data.slos.map((s) => ({ ...s, weeks: s.weeks.map((w) => ({ ...w, counts: { good: 0, total: 0 } })), windowCounts: { good: 0, total: 0 } })),
    runs: [],
    previousRuns: [],
    slowSteps: [],
    failures: [],
    deadLetters: [],
    incidents: { alerts: [], silences: [] },
  };
}
