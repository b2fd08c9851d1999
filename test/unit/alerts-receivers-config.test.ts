import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.ts';

const KEY = 'k'.repeat(32);

function base(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sources: [{ name: 'crm' }],
    kafka: { brokers: ['kafka-0:9092'] },
    store: { clickhouse: { url: 'http://clickhouse:8123', database: 'seamwatch' } },
    receivers: [
      { name: 'billing-pager', pagerduty: { routingKeyEnv: 'SEAMWATCH_PD_KEY_BILLING' } },
      { name: 'support-hook', webhook: { url: 'http://relay:8080/hook' } },
    ],
    routes: { receiver: 'support-hook', group_by: ['team'], routes: [{ matchers: ['team="billing"'], receiver: 'billing-pager', mute_time_intervals: ['release'] }] },
    time_intervals: [{ name: 'release', time_intervals: [{ weekdays: ['tuesday'] }] }],
    inhibit_rules: [{ source_matchers: ['detector="slo-burn"'], target_matchers: ['detector="upgrade-late"'], equal: ['workflow'] }],
    ...extra,
  };
}

const problems = (raw: unknown, env: NodeJS.ProcessEnv = { SEAMWATCH_PD_KEY_BILLING: KEY }) => {
  const result = validateConfig(raw, env);
  return result.ok ? [] : result.problems;
};

describe('receivers, routes, inhibit_rules and time_intervals in the config', () => {
  it('reads the routing key from the environment the receiver names', () => {
    const result = validateConfig(base(), { SEAMWATCH_PD_KEY_BILLING: KEY });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.config.receivers).toEqual([
      { name: 'billing-pager', pagerduty: { routingKeyEnv: 'SEAMWATCH_PD_KEY_BILLING', routingKey: KEY, storm: { threshold: 10, examples: 5 } } },
      { name: 'support-hook', webhook: { url: 'http://relay:8080/hook' } },
    ]);
    expect(result.config.routes?.routes[0]?.receiver).toBe('billing-pager');
    expect(result.config.inhibit_rules).toHaveLength(1);
    expect(result.config.time_intervals.map((t) => t.name)).toEqual(['release']);
  });

  it('without routes nothing is routed', () => {
    const result = validateConfig({ ...base(), routes: undefined }, { SEAMWATCH_PD_KEY_BILLING: KEY });
    expect(result.ok && result.config.routes).toBe(undefined);
  });

  it.each<[string, Record<string, unknown>, NodeJS.ProcessEnv, string[]]>([
    ['a routing key variable that is not set', {}, {}, ['receivers[0].pagerduty.routingKeyEnv: environment variable SEAMWATCH_PD_KEY_BILLING is not set']],
    ['a routing key variable that is empty', {}, { SEAMWATCH_PD_KEY_BILLING: '' }, ['receivers[0].pagerduty.routingKeyEnv: environment variable SEAMWATCH_PD_KEY_BILLING is not set']],
    [
      'a receiver that is neither kind',
      { receivers: [{ name: 'x', email: { to: 'a@b' } }], routes: { receiver: 'x' } },
      {},
      ['receivers[0]: must be { name, pagerduty: { routingKeyEnv } } or { name, webhook: { url } }'],
    ],
    ['a webhook URL that is not HTTP', { receivers: [{ name: 'x', webhook: { url: 'ftp://relay' } }], routes: { receiver: 'x' } }, {}, ['receivers[0].webhook.url: must be an http:// or https:// URL']],
    ['an unknown key in a PagerDuty receiver', { receivers: [{ name: 'x', pagerduty: { routingKeyEnv: 'K', routingKey: 'secret' } }], routes: { receiver: 'x' } }, { K: KEY }, ['receivers[0].pagerduty.routingKey: unknown key']],
    [
      'two PagerDuty receivers with different endpoints',
      { receivers: [{ name: 'a', pagerduty: { routingKeyEnv: 'K' } }, { name: 'b', pagerduty: { routingKeyEnv: 'K', url: 'http://pd.test/v2/enqueue' } }], routes: { receiver: 'a' } },
      { K: KEY },
      ['receivers[1].pagerduty.url: every PagerDuty receiver must use the same url (one notifier serves them all; the first has PagerDuty\'s)'],
    ],
    [
      'a duplicate receiver name',
      { receivers: [{ name: 'x', webhook: { url: 'http://a' } }, { name: 'x', webhook: { url: 'http://b' } }], routes: { receiver: 'x' } },
      {},
      ['receivers[1].name: duplicate receiver "x"'],
    ],
    ['a route naming an unknown receiver', { routes: { receiver: 'support-hook', routes: [{ matchers: ['team="x"'], receiver: 'pager' }] } }, { SEAMWATCH_PD_KEY_BILLING: KEY }, ['routes.routes[0].receiver: unknown receiver "pager" (known: billing-pager, support-hook)']],
    ['a root route without a receiver', { routes: { group_by: ['team'] } }, { SEAMWATCH_PD_KEY_BILLING: KEY }, ['routes.receiver: required on the root route']],
    ['a route muted by an unknown time interval', { time_intervals: [] }, { SEAMWATCH_PD_KEY_BILLING: KEY }, ['routes.routes[0].mute_time_intervals[0]: unknown time interval "release" (none are configured)']],
    ['an inhibit rule without targets', { inhibit_rules: [{ source_matchers: ['a="b"'], target_matchers: [] }] }, { SEAMWATCH_PD_KEY_BILLING: KEY }, ['inhibit_rules[0].target_matchers: at least one matcher is needed (otherwise every alert can be inhibited)']],
  ])('%s', (_label, change, env, expected) => {
    expect(problems(base(change), env)).toEqual(expected);
  });
});
