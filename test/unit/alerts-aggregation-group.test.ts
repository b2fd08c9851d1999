import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseDuration } from '../../src/domain/duration.ts';
import { stepGroup, type AggregationGroup, type GroupTimers } from '../../src/alerts/routing/aggregation-group.ts';
import type { Alert, AlertState } from '../../src/alerts/types.ts';

const DAY = '2026-03-02';
const at = (clock: string) => Date.parse(`${DAY}T${clock}Z`);
const clock = (ms: number | undefined) => (ms === undefined ? 'none' : new Date(ms).toISOString().slice(11, 19));

/** "A firing 10:00:00" */
function alert(text: string): Alert {
  const [fingerprint, state, startsAt] = text.split(' ') as [string, AlertState, string];
  return {
    fingerprint,
    labels: { team: 'billing', key: fingerprint },
    annotations: {},
    state,
    startsAt: at(startsAt),
    endsAt: state === 'resolved' ? at(startsAt) + 60_000 : 0,
    generatorUrl: '',
  };
}

interface Step {
  at: string;
  alerts?: string[];
  notify?: string;
  wake: string;
}

interface Case {
  name: string;
  timers?: { group_wait: string; group_interval: string };
  steps: Step[];
}

const toTimers = (t: { group_wait: string; group_interval: string }): GroupTimers => ({
  groupWaitMs: parseDuration(t.group_wait)!,
  groupIntervalMs: parseDuration(t.group_interval)!,
});

describe('stepGroup', () => {
  const { timers, cases } = parse(readFileSync(new URL('../fixtures/alerts/aggregation-group.yaml', import.meta.url), 'utf8')) as {
    timers: { group_wait: string; group_interval: string };
    cases: Case[];
  };

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    let group: AggregationGroup | undefined;
    const seen: Step[] = [];
    const expected: Step[] = [];
    for (const step of c.steps) {
      const result = stepGroup(group, (step.alerts ?? []).map(alert), at(step.at), toTimers(c.timers ?? timers));
      group = result.group;
      const notify = result.notify ? `${result.notify.reason}: ${result.notify.alerts.map((a) => `${a.fingerprint} ${a.state}`).join(', ')}` : undefined;
      seen.push({ at: step.at, ...(step.alerts ? { alerts: step.alerts } : {}), ...(notify ? { notify } : {}), wake: clock(result.nextWakeAt) });
      expected.push(step);
      // An ended group is forgotten: the state is gone, not an empty shell.
      if (result.nextWakeAt === undefined) expect(result.group).toBeUndefined();
    }
    expect(seen).toEqual(expected);
  });

  it('does not change the state it is given', () => {
    const timersNow = { groupWaitMs: 30_000, groupIntervalMs: 300_000 };
    const first = stepGroup(undefined, [alert('A firing 10:00:00')], at('10:00:00'), timersNow);
    const frozen = structuredClone(first.group);
    stepGroup(first.group, [alert('B firing 10:00:10'), alert('A resolved 10:00:00')], at('10:00:30'), timersNow);
    expect(first.group).toEqual(frozen);
  });
});
