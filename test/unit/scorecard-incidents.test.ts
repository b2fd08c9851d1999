import { describe, expect, it } from 'vitest';
import { incidentsFrom, readIncidents } from '../../src/scorecard/incidents.ts';
import { MemorySloStore } from '../support/memory-slo-store.ts';
import type { AlertState } from '../../src/alerts/persistence.ts';
import type { AlertEntry } from '../../src/alerts/lifecycle/alert-book.ts';
import { isoWeek } from '../../src/scorecard/week.ts';

const week = isoWeek('2026-W47', 'UTC');
const D = 86_400_000;

function entry(fingerprint: string, team: string, detector: string, startsAt: number, endsAt: number, fired = true): AlertEntry {
  return {
    alert: {
      fingerprint,
      labels: { alertname: detector, detector, team, severity: 'critical', workflow: 'support-ticket' },
      annotations: { summary: `${fingerprint} is stuck`, correlation_id: `c-${fingerprint}` },
      state: endsAt ? 'resolved' : 'firing',
      startsAt,
      endsAt,
      generatorUrl: '',
    },
    firesAt: startsAt,
    resolvesAt: Number.POSITIVE_INFINITY,
    fired,
    partition: 0,
  };
}

const kinds = new Map([['stuck-ticket', 'stuck' as const], ['duplicate-invoice', 'duplicate' as const]]);

describe('business incidents from the alert state documents', () => {
  const states: AlertState[] = [
    {
      alerts: [
        entry('a', 'support-ops', 'stuck-ticket', week.from + D, 0),
        entry('b', 'support-ops', 'stuck-ticket', week.from - 3 * D, week.from - 2 * D),
        entry('c', 'billing-platform', 'duplicate-invoice', week.from + 2 * D, 0),
        entry('d', 'support-ops', 'stuck-ticket', week.from + 2 * D, 0, false),
      ],
      notificationLog: { entries: { 'pd\u0000g': { firing: ['a'], resolved: [], sentAt: week.from + D } }, open: {} },
    },
    {
      alerts: [entry('e', 'support-ops', 'source-silent', week.from - D, week.from + D)],
      notificationLog: { entries: {}, open: { pd: { e: week.from - D } } },
      silences: [
        { id: 's1', matchers: [{ name: 'team', type: '=', value: 'support-ops' }], startsAt: week.from - 20 * D, endsAt: week.to + D, createdBy: 'bob', comment: 'migration', updatedAt: 0 },
        { id: 's2', matchers: [{ name: 'team', type: '=', value: 'billing-platform' }], startsAt: week.from, endsAt: week.to + D, createdBy: 'eve', comment: 'not ours', updatedAt: 0 },
        { id: 's3', matchers: [{ name: 'detector', type: '=', value: 'stuck-ticket' }], startsAt: week.from, endsAt: week.from + D, createdBy: 'old', comment: 'expired', updatedAt: 0 },
      ],
    },
  ];

  it("keeps the team's alerts that fired and overlapped the week, with the ones a receiver was told about marked paged", () => {
    const { alerts } = incidentsFrom(states, 'support-ops', week, week.to, kinds);
    expect(alerts.map((a) => [a.correlationId, a.kind, a.paged])).toEqual([
      ['c-e', 'other', true],
      ['c-a', 'stuck', true],
    ]);
  });

  it("lists the silences active now that can mute the team's alerts", () => {
    const { silences } = incidentsFrom(states, 'support-ops', week, week.to, kinds);
    expect(silences.map((s) => [s.id, s.createdBy, s.matchers])).toEqual([['s1', 'bob', 'team="support-ops"']]);
  });

  it("reads every alert state document of the group from the store: partitions, the SLO lead's, the shared one and each silence's; no other group's, nor the group's other documents", async () => {
    const store = new MemorySloStore();
    store.documents.set('alerts:g:p0', JSON.stringify(states[0]));
    store.documents.set('alerts:g:slo', JSON.stringify({ alerts: [entry('f', 'support-ops', 'slo-burn', week.from + 3 * D, 0)], notificationLog: { entries: {}, open: { pd: { f: week.from + 3 * D } } } }));
    store.documents.set('alerts:g:global', JSON.stringify({ ...states[1], silences: undefined }));
    for (const silence of states[1]!.silences!) store.documents.set(`alerts:g:silence:${silence.id}`, JSON.stringify(silence));
    // The SLO lead's holder document is the group's too, but no alert state.
    store.documents.set('alerts:g:slo-holder', JSON.stringify({ holder: 'x', state: 'holding', at: 1 }));
    store.documents.set('alerts:g2:p0', JSON.stringify({ alerts: [entry('x', 'support-ops', 'stuck-ticket', week.from + D, 0)], notificationLog: { entries: {}, open: { pd: { x: 1 } } } }));
    const { alerts, silences } = await readIncidents(store.asStore(), 'g', 'support-ops', week, week.to, kinds);
    expect(alerts.map((a) => a.correlationId).sort()).toEqual(['c-a', 'c-e', 'c-f']);
    expect(silences.map((s) => s.id)).toEqual(['s1']);
  });
});
