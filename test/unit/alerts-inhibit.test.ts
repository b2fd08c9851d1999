import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { inhibitRulesSchema } from '../../src/alerts/inhibit/config.ts';
import { inhibitedBy, isInhibited } from '../../src/alerts/inhibit/inhibit.ts';
import type { Alert, AlertState } from '../../src/alerts/types.ts';

interface Fixture {
  rules: unknown;
  alerts: Record<string, { state: AlertState; labels: Record<string, string> }>;
  cases: { name: string; labels: Record<string, string>; inhibited_by: string | null }[];
}

describe('inhibitedBy', () => {
  const fixture = parse(readFileSync(new URL('../fixtures/alerts/inhibit.yaml', import.meta.url), 'utf8')) as Fixture;
  const rules = inhibitRulesSchema.parse(fixture.rules);
  const alerts: Alert[] = Object.entries(fixture.alerts).map(([fingerprint, a]) => ({
    fingerprint,
    labels: a.labels,
    annotations: {},
    state: a.state,
    startsAt: 0,
    endsAt: 0,
    generatorUrl: '',
  }));

  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(inhibitedBy(rules, alerts, c.labels) ?? null).toBe(c.inhibited_by);
    expect(isInhibited(rules, alerts, c.labels)).toBe(c.inhibited_by !== null);
  });

  it('inhibits nothing without rules or without alerts', () => {
    const labels = fixture.cases[0]!.labels;
    expect(inhibitedBy([], alerts, labels)).toBeUndefined();
    expect(inhibitedBy(rules, [], labels)).toBeUndefined();
  });
});
