import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatDuration } from '../../src/domain/duration.ts';
import { groupKeyFor, groupLabelsFor } from '../../src/alerts/routing/grouping.ts';
import { matchRoutes, type Route, type RoutingTree } from '../../src/alerts/routing/tree.ts';
import { validateAlertRouting } from '../../src/alerts/routing/validate.ts';

const fixture = (name: string) => parse(readFileSync(new URL(`../fixtures/alerts/${name}`, import.meta.url), 'utf8'));

interface RouteCase {
  name: string;
  labels: Record<string, string>;
  routes: Record<string, unknown>[];
}

const summary = (route: Route) => ({
  id: route.id,
  receiver: route.options.receiver,
  group_by: route.options.groupByAll ? ['...'] : [...route.options.groupBy],
  group_wait: formatDuration(route.options.groupWaitMs),
  group_interval: formatDuration(route.options.groupIntervalMs),
  repeat_interval: formatDuration(route.options.repeatIntervalMs),
});

function buildTree(config: unknown, receivers: string[]): RoutingTree {
  const result = validateAlertRouting(config, receivers);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result.routing.tree;
}

describe('matchRoutes', () => {
  const { receivers, config, cases } = fixture('routing-tree.yaml') as { receivers: string[]; config: unknown; cases: RouteCase[] };
  const tree = buildTree(config, receivers);

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(matchRoutes(tree, c.labels).map(summary)).toEqual(c.routes);
  });

  it('sorts matchers in the id, so the order they are written in does not matter', () => {
    const a = buildTree({ routes: { receiver: 'r', routes: [{ matchers: ['b="1"', 'a="2"'] }] } }, ['r']);
    const b = buildTree({ routes: { receiver: 'r', routes: [{ matchers: 'a="2", b="1"' }] } }, ['r']);
    expect([...a.byId.keys()]).toEqual(['{}/{a="2",b="1"}/0', '{}']);
    expect([...b.byId.keys()]).toEqual([...a.byId.keys()]);
  });

  it('does not inherit time intervals (as in Alertmanager) but inherits everything else', () => {
    const tree = buildTree(
      {
        routes: {
          receiver: 'r',
          group_by: ['team'],
          group_wait: '1m',
          group_interval: '2m',
          repeat_interval: '3h',
          routes: [{ matchers: ['team="billing"'], mute_time_intervals: ['nights'], routes: [{ matchers: ['severity="critical"'] }] }],
        },
        time_intervals: [{ name: 'nights', time_intervals: [{ times: [{ start_time: '00:00', end_time: '06:00' }] }] }],
      },
      ['r'],
    );
    const [parent] = matchRoutes(tree, { team: 'billing' });
    const [child] = matchRoutes(tree, { team: 'billing', severity: 'critical' });
    expect(parent!.options.muteTimeIntervals).toEqual(['nights']);
    expect(child!.options).toEqual({ ...parent!.options, muteTimeIntervals: [] });
    expect(child!.options).toMatchObject({ receiver: 'r', groupBy: ['team'], groupWaitMs: 60_000, groupIntervalMs: 120_000, repeatIntervalMs: 10_800_000 });
  });

  it('uses seamwatch\'s defaults on a root that sets no timers: a group per kind of problem, paged within a second', () => {
    const tree = buildTree({ routes: { receiver: 'r' } }, ['r']);
    expect(tree.root.options).toEqual({
      receiver: 'r',
      groupBy: ['alertname', 'team', 'workflow'],
      groupByAll: false,
      groupWaitMs: 1_000,
      groupIntervalMs: 1_000,
      repeatIntervalMs: 14_400_000,
      muteTimeIntervals: [],
      activeTimeIntervals: [],
    });
  });
});

describe('group labels and keys', () => {
  const tree = buildTree(
    {
      routes: {
        receiver: 'r',
        group_by: [],
        routes: [
          { matchers: ['team="billing"'], group_by: ['team', 'workflow'] },
          { matchers: ['team="support"'], group_by: ['...'] },
        ],
      },
    },
    ['r'],
  );
  it.each<[string, Record<string, string>, Record<string, string>, string]>([
    ['the group_by labels the alert has', { team: 'billing', workflow: 'invoice-sync', severity: 'critical' }, { team: 'billing', workflow: 'invoice-sync' }, '{}/{team="billing"}/0:{team="billing", workflow="invoice-sync"}'],
    ['a group_by label the alert lacks is left out', { team: 'billing', severity: 'critical' }, { team: 'billing' }, '{}/{team="billing"}/0:{team="billing"}'],
    ['"..." takes every label', { team: 'support', severity: 'info', workflow: 'triage' }, { team: 'support', severity: 'info', workflow: 'triage' }, '{}/{team="support"}/1:{severity="info", team="support", workflow="triage"}'],
    ['an empty group_by makes one group for the route', { team: 'ops' }, {}, '{}:{}'],
  ])('%s', (_name, labels, groupLabels, key) => {
    const [route] = matchRoutes(tree, labels);
    expect(groupLabelsFor(route!.options, labels)).toEqual(groupLabels);
    expect(groupKeyFor(route!, groupLabels)).toBe(key);
  });
});

describe('validateAlertRouting', () => {
  const { receivers, cases } = fixture('routing-invalid.yaml') as { receivers: string[]; cases: { name: string; config: unknown; problems: string[] }[] };

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = validateAlertRouting(c.config, receivers);
    expect(result.ok ? [] : result.problems).toEqual(c.problems);
  });
});
