import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfigText, validateConfig, type OpenSloReader } from '../../src/config/load.ts';
import type { SeamwatchConfig } from '../../src/config/schema.ts';
import { compileSlo, sloSchema } from '../../src/slo/config.ts';
import type { SloDefinition } from '../../src/slo/types.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A valid configuration with the example's two workflows, as plain data, for cases that change one thing. */
function baseConfig(): Record<string, any> {
  return {
    sources: [{ name: 'crm' }, { name: 'billing' }, { name: 'ticketing' }],
    workflows: [
      {
        name: 'plan-upgrade',
        owner: 'billing-platform',
        trigger: { source: 'crm', type: 'subscription.upgraded' },
        steps: [
          { name: 'invoice-updated', source: 'billing', type: 'invoice.updated' },
          { name: 'entitlement-activated', source: 'billing', type: 'entitlement.activated' },
          { name: 'ticket-tagged', source: 'ticketing', type: 'ticket.tagged', required: false },
        ],
        deadline: '5m',
      },
      {
        name: 'support-ticket',
        owner: 'support-ops',
        trigger: { source: 'ticketing', type: 'ticket.opened' },
        steps: [{ name: 'resolved', source: 'ticketing', type: 'ticket.resolved' }],
        deadline: '1d',
      },
    ],
    slos: [{ name: 'upgrade-sync-5m', workflow: 'plan-upgrade', objective: '99.9%', window: '28d', indicator: { 'completed-within': '5m' } }],
    kafka: { brokers: ['kafka-0:9092'] },
    store: { clickhouse: { url: 'http://clickhouse:8123', database: 'seamwatch' } },
  };
}

const noFiles: OpenSloReader = (path) => {
  throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
};
const inMemory =
  (files: Record<string, string>): OpenSloReader =>
  (path) =>
    files[path] ?? noFiles(path);

function accepted(raw: Record<string, any>, readFile: OpenSloReader = noFiles): SeamwatchConfig {
  const result = validateConfig(raw, {}, readFile);
  if (!result.ok) throw new Error(`refused:\n${result.problems.join('\n')}`);
  return result.config;
}

function problemsOf(change: (c: Record<string, any>) => void, readFile: OpenSloReader = noFiles): string[] {
  const raw = baseConfig();
  change(raw);
  const result = validateConfig(raw, {}, readFile);
  if (result.ok) throw new Error('the configuration was accepted');
  return result.problems;
}

const slo0 = (c: Record<string, any>) => c.slos[0] as Record<string, any>;

describe('SLOs in the config compile to definitions', () => {
  it('fill in the workflow\'s owner and required steps, the default tiers for the period, and minEvents 20', () => {
    expect(accepted(baseConfig()).slos).toEqual<SloDefinition[]>([
      {
        name: 'upgrade-sync-5m',
        workflow: 'plan-upgrade',
        owner: 'billing-platform',
        objective: 0.999,
        window: { kind: 'rolling', durationMs: 28 * DAY },
        indicator: { kind: 'completed-within', thresholdMs: 5 * MINUTE, steps: ['invoice-updated', 'entitlement-activated'] },
        alerting: {
          minEvents: 20,
          tiers: [
            { name: 'page-1h', severity: 'page', longWindowMs: HOUR, shortWindowMs: 5 * MINUTE, budgetConsumed: 0.02, factor: expect.closeTo(13.44, 9) },
            { name: 'page-6h', severity: 'page', longWindowMs: 6 * HOUR, shortWindowMs: 30 * MINUTE, budgetConsumed: 0.05, factor: expect.closeTo(5.6, 9) },
            { name: 'ticket-1d', severity: 'ticket', longWindowMs: DAY, shortWindowMs: 2 * HOUR, budgetConsumed: 0.1, factor: expect.closeTo(2.8, 9) },
            { name: 'ticket-3d', severity: 'ticket', longWindowMs: 3 * DAY, shortWindowMs: 6 * HOUR, budgetConsumed: 0.1, factor: expect.closeTo(0.9333333333, 9) },
          ],
        },
        origin: 'config',
      },
    ]);
  });

  it('keep what they set: owner, description, steps, calendar window, tiers with factors from the period', () => {
    const config = baseConfig();
    config.slos = [
      {
        name: 'ticket-resolution',
        workflow: 'support-ticket',
        objective: 0.95,
        window: { calendar: 'month', timeZone: 'Europe/Berlin' },
        indicator: { 'success-ratio': {} },
        owner: 'support-leads',
        description: 'Tickets resolved in time.',
        alerting: { minEvents: 5, tiers: [{ name: 'fast', severity: 'page', longWindow: '1h', shortWindow: '5m', budgetConsumed: '2%' }] },
      },
      {
        name: 'upgrade-tagged',
        workflow: 'plan-upgrade',
        objective: '99.5%',
        window: { calendar: 'week' },
        indicator: { 'step-latency': '2m', from: 'invoice-updated', to: 'ticket-tagged' },
      },
      { name: 'upgrade-invoice', workflow: 'plan-upgrade', objective: '90%', window: '7d', indicator: { 'completed-within': '1m', steps: ['invoice-updated'] } },
    ];
    const [ticket, tagged, invoice] = accepted(config).slos;
    expect(ticket).toEqual({
      name: 'ticket-resolution',
      workflow: 'support-ticket',
      owner: 'support-leads',
      description: 'Tickets resolved in time.',
      objective: 0.95,
      window: { kind: 'calendar', unit: 'month', timeZone: 'Europe/Berlin' },
      indicator: { kind: 'success-ratio' },
      // 2% of a nominal 30-day month in 1h: 14.4.
      alerting: { minEvents: 5, tiers: [{ name: 'fast', severity: 'page', longWindowMs: HOUR, shortWindowMs: 5 * MINUTE, budgetConsumed: 0.02, factor: expect.closeTo(14.4, 9) }] },
      origin: 'config',
    });
    expect(tagged!.window).toEqual({ kind: 'calendar', unit: 'week', timeZone: 'UTC' });
    expect(tagged!.objective).toBe(0.995);
    expect(tagged!.indicator).toEqual({ kind: 'step-latency', thresholdMs: 2 * MINUTE, from: 'invoice-updated', to: 'ticket-tagged' });
    expect(tagged!.alerting.tiers.map((t) => Number(t.factor.toFixed(9)))).toEqual([3.36, 1.4, 0.7, 0.233333333]);
    expect(invoice!.objective).toBe(0.9);
    expect(invoice!.indicator).toEqual({ kind: 'completed-within', thresholdMs: MINUTE, steps: ['invoice-updated'] });
  });

  it('an SLO without alerting tiers of its own on a 1d window gets only the tiers that fit in a day', () => {
    const config = baseConfig();
    slo0(config).window = '1d';
    expect(accepted(config).slos[0]!.alerting.tiers.map((t) => t.name)).toEqual(['page-1h', 'page-6h', 'ticket-1d']);
  });

  it('writes 99.9% and 0.999 as the same objective, without binary noise', () => {
    const parse = (objective: unknown) => sloSchema.parse({ name: 's', workflow: 'w', objective, window: '28d', indicator: { 'success-ratio': {} } }).objective;
    expect(parse('99.9%')).toBe(0.999);
    expect(parse('99.99 %')).toBe(0.9999);
    expect(parse(0.999)).toBe(0.999);
    expect(parse('95%')).toBe(0.95);
  });

  it('compileSlo takes its defaults from the workflow it is given', () => {
    const spec = sloSchema.parse({ name: 's', workflow: 'w', objective: '99%', window: '30d', indicator: { 'completed-within': '10m' } });
    const compiled = compileSlo(spec, { owner: 'team-w', steps: [{ name: 'a', source: 'x', type: 'y', required: false, failOn: [] }, { name: 'b', source: 'x', type: 'z', required: true, failOn: [] }] }, 'somewhere.yaml');
    expect(compiled).toMatchObject({ owner: 'team-w', indicator: { kind: 'completed-within', thresholdMs: 600_000, steps: ['b'] }, origin: 'somewhere.yaml' });
    expect(compiled).not.toHaveProperty('description');
  });
});

describe('SLO config errors, every one with its key path', () => {
  it.each<[string, (c: Record<string, any>) => void, string[]]>([
    ['an unknown workflow', (c) => (slo0(c).workflow = 'plan-upgrad'), ['slos[0].workflow: unknown workflow "plan-upgrad" (known: plan-upgrade, support-ticket)']],
    ['a workflow when none are configured', (c) => (c.workflows = []), ['slos[0].workflow: unknown workflow "plan-upgrade" (no workflows are configured)']],
    [
      'unknown and repeated steps',
      (c) => (slo0(c).indicator.steps = ['invoice-updated', 'entitlement', 'invoice-updated']),
      [
        'slos[0].indicator.steps[1]: unknown step "entitlement" (steps of plan-upgrade: invoice-updated, entitlement-activated, ticket-tagged)',
        'slos[0].indicator.steps[2]: duplicate step "invoice-updated"',
      ],
    ],
    [
      'step-latency between unknown steps',
      (c) => (slo0(c).indicator = { 'step-latency': '2m', from: 'triaged', to: 'resolved' }),
      [
        'slos[0].indicator.from: unknown step "triaged" (steps of plan-upgrade: invoice-updated, entitlement-activated, ticket-tagged)',
        'slos[0].indicator.to: unknown step "resolved" (steps of plan-upgrade: invoice-updated, entitlement-activated, ticket-tagged)',
      ],
    ],
    ['two SLOs with one name', (c) => c.slos.push({ ...slo0(c) }), ['slos[1].name: duplicate SLO "upgrade-sync-5m"']],
    ['a name with capitals', (c) => (slo0(c).name = 'Upgrade'), ['slos[0].name: must be lower-case letters, digits, ".", "_" or "-"']],
    ['100% has no budget', (c) => (slo0(c).objective = '100%'), ['slos[0].objective: 100% leaves no error budget (use e.g. 99.9%)']],
    ['1 has no budget either', (c) => (slo0(c).objective = 1), ['slos[0].objective: 100% leaves no error budget (use e.g. 99.9%)']],
    ['a percentage without its sign', (c) => (slo0(c).objective = 99.9), ['slos[0].objective: 99.9 is not a ratio below 1 (write 99.9% or 0.999)']],
    ['more than 100%', (c) => (slo0(c).objective = '120%'), ['slos[0].objective: must be below 100%']],
    ['0%', (c) => (slo0(c).objective = '0%'), ['slos[0].objective: must be more than 0%']],
    ['words', (c) => (slo0(c).objective = 'three nines'), ['slos[0].objective: not an objective: "three nines" (use e.g. 99.9% or 0.999)']],
    ['a missing objective', (c) => delete slo0(c).objective, ['slos[0].objective: required']],
    ['a window in words', (c) => (slo0(c).window = '28 days'), ['slos[0].window: not a duration: "28 days" (use e.g. 30s, 5m, 4h, 28d)']],
    ['a zero window', (c) => (slo0(c).window = '0d'), ['slos[0].window: must be longer than 0']],
    ['a window of the wrong type', (c) => (slo0(c).window = true), ['slos[0].window: must be a duration like 28d or { calendar: week | month | quarter, timeZone: <IANA zone> }']],
    ['a calendar fortnight', (c) => (slo0(c).window = { calendar: 'fortnight' }), ['slos[0].window.calendar: Invalid option: expected one of "week"|"month"|"quarter"']],
    ['a calendar window without its unit', (c) => (slo0(c).window = { timeZone: 'UTC' }), ['slos[0].window.calendar: required']],
    [
      'a misspelt time zone',
      (c) => (slo0(c).window = { calendar: 'month', timeZone: 'Europe/Berln' }),
      ['slos[0].window.timeZone: unknown time zone "Europe/Berln" (use an IANA name such as Europe/Berlin, or UTC)'],
    ],
    ['an unknown key in a calendar window', (c) => (slo0(c).window = { calendar: 'month', zone: 'UTC' }), ['slos[0].window.zone: unknown key']],
    ['two indicators', (c) => (slo0(c).indicator = { 'completed-within': '5m', 'success-ratio': {} }), ['slos[0].indicator: has completed-within and success-ratio: give one indicator per SLO']],
    ['no indicator kind', (c) => (slo0(c).indicator = {}), ['slos[0].indicator: must name one of completed-within, success-ratio, step-latency']],
    ['a missing indicator', (c) => delete slo0(c).indicator, ['slos[0].indicator: required']],
    ['an indicator in words', (c) => (slo0(c).indicator = 'fast'), ['slos[0].indicator: must be { completed-within: <duration> }, { success-ratio: {} } or { step-latency: <duration>, from: <step>, to: <step> }']],
    ['step-latency without its end', (c) => (slo0(c).indicator = { 'step-latency': '2m', from: 'invoice-updated' }), ['slos[0].indicator.to: required with step-latency']],
    ['step-latency from a step to itself', (c) => (slo0(c).indicator = { 'step-latency': '2m', from: 'invoice-updated', to: 'invoice-updated' }), ['slos[0].indicator.to: must be another step than from']],
    ['steps on a success ratio', (c) => (slo0(c).indicator = { 'success-ratio': {}, steps: ['invoice-updated'] }), ['slos[0].indicator.steps: only allowed with completed-within']],
    ['from on completed-within', (c) => (slo0(c).indicator.from = 'invoice-updated'), ['slos[0].indicator.from: only allowed with step-latency']],
    ['a threshold in words', (c) => (slo0(c).indicator = { 'completed-within': 'soon' }), ['slos[0].indicator.completed-within: not a duration: "soon" (use e.g. 30s, 5m, 4h, 28d)']],
    ['an unknown key', (c) => (slo0(c).target = '99%'), ['slos[0].target: unknown key']],
    [
      'a short window as long as the long one, and a long window longer than the SLO period',
      (c) =>
        (slo0(c).alerting = {
          tiers: [
            { name: 'fast', severity: 'page', longWindow: '1h', shortWindow: '60m', budgetConsumed: '2%' },
            { name: 'slow', severity: 'ticket', longWindow: '30d', shortWindow: '1d', budgetConsumed: '50%' },
          ],
        }),
      ['slos[0].alerting.tiers[0].shortWindow: must be shorter than longWindow (1h)', 'slos[0].alerting.tiers[1].longWindow: must not be longer than the SLO period (28d)'],
    ],
    [
      'a tier longer than a calendar week',
      (c) => {
        slo0(c).window = { calendar: 'week' };
        slo0(c).alerting = { tiers: [{ name: 'slow', severity: 'ticket', longWindow: '8d', shortWindow: '1d', budgetConsumed: '50%' }] };
      },
      ['slos[0].alerting.tiers[0].longWindow: must not be longer than the SLO period (1w for a calendar week)'],
    ],
    [
      'windows that are not whole minutes',
      (c) => (slo0(c).alerting = { tiers: [{ name: 'fast', severity: 'page', longWindow: '90m', shortWindow: '90s', budgetConsumed: 0.02 }] }),
      ['slos[0].alerting.tiers[0].shortWindow: must be whole minutes, as runs are counted per minute (not 90s)'],
    ],
    [
      'two tiers with one name',
      (c) =>
        (slo0(c).alerting = {
          tiers: [
            { name: 'fast', severity: 'page', longWindow: '1h', shortWindow: '5m', budgetConsumed: '2%' },
            { name: 'fast', severity: 'page', longWindow: '6h', shortWindow: '30m', budgetConsumed: '5%' },
          ],
        }),
      ['slos[0].alerting.tiers[1].name: duplicate tier "fast"'],
    ],
    [
      'budget shares out of range and a severity nobody routes',
      (c) =>
        (slo0(c).alerting = {
          tiers: [
            { name: 'a', severity: 'page', longWindow: '1h', shortWindow: '5m', budgetConsumed: 2 },
            { name: 'b', severity: 'page', longWindow: '1h', shortWindow: '5m', budgetConsumed: '150%' },
            { name: 'c', severity: 'critical', longWindow: '1h', shortWindow: '5m', budgetConsumed: '0%' },
          ],
        }),
      [
        'slos[0].alerting.tiers[0].budgetConsumed: 2 is more than the whole budget (write 2% or 0.02)',
        'slos[0].alerting.tiers[1].budgetConsumed: must be at most 100%',
        'slos[0].alerting.tiers[2].severity: Invalid option: expected one of "page"|"ticket"',
        'slos[0].alerting.tiers[2].budgetConsumed: must be more than 0%',
      ],
    ],
    ['a negative guard', (c) => (slo0(c).alerting = { minEvents: -1 }), ['slos[0].alerting.minEvents: Too small: expected number to be >=0']],
    ['slos that are not a list', (c) => (c.slos = { name: 'x' }), ['slos: Invalid input: expected array, received object']],
    [
      'every problem of one SLO at once, shape and references together',
      (c) => {
        Object.assign(slo0(c), { workflow: 'plan-upgrad', objective: '100%', window: { calendar: 'month', timeZone: 'Mars/Olympus' } });
        slo0(c).alerting = { tiers: [{ name: 'fast', severity: 'page', longWindow: '1h', shortWindow: '2h', budgetConsumed: '2%' }] };
      },
      [
        'slos[0].objective: 100% leaves no error budget (use e.g. 99.9%)',
        'slos[0].window.timeZone: unknown time zone "Mars/Olympus" (use an IANA name such as Europe/Berlin, or UTC)',
        'slos[0].workflow: unknown workflow "plan-upgrad" (known: plan-upgrade, support-ticket)',
        'slos[0].alerting.tiers[0].shortWindow: must be shorter than longWindow (1h)',
      ],
    ],
  ])('%s', (_label, change, problems) => {
    expect(problemsOf(change)).toEqual(problems);
  });
});

const OPENSLO = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: upgrade-success
spec:
  service: billing-platform
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 28d, isRolling: true }]
  objectives: [{ target: 0.995 }]
  indicator:
    spec:
      ratioMetric:
        good: { metricSource: { type: seamwatch, spec: { workflow: WORKFLOW, indicator: { success-ratio: {} } } } }
        total: { metricSource: { type: seamwatch, spec: { workflow: WORKFLOW } } }
`;
const openSlo = (workflow = 'plan-upgrade', name = 'upgrade-success') => OPENSLO.replaceAll('WORKFLOW', workflow).replace('upgrade-success', name);
const GOOD = 'spec.indicator.spec.ratioMetric.good.metricSource.spec';

describe('OpenSLO files named in the config', () => {
  it('add their SLOs after the config\'s, with the file as origin', () => {
    const config = baseConfig();
    config.openslo = ['openslo/upgrade.yaml'];
    const slos = accepted(config, inMemory({ 'openslo/upgrade.yaml': openSlo() })).slos;
    expect(slos.map((s) => [s.name, s.origin, s.objective, s.owner])).toEqual([
      ['upgrade-sync-5m', 'config', 0.999, 'billing-platform'],
      ['upgrade-success', 'openslo/upgrade.yaml', 0.995, 'billing-platform'],
    ]);
    expect(slos[1]!.alerting.tiers.map((t) => t.name)).toEqual(['page-1h', 'page-6h', 'ticket-1d', 'ticket-3d']);
  });

  it.each<[string, (c: Record<string, any>) => void, Record<string, string>, string[]]>([
    ['a file that is not there', (c) => (c.openslo = ['openslo/missing.yaml']), {}, ['openslo[0]: cannot read "openslo/missing.yaml": no such file']],
    ['a file listed twice', (c) => (c.openslo = ['a.yaml', 'a.yaml']), { 'a.yaml': openSlo() }, ['openslo[1]: duplicate file "a.yaml"']],
    ['a path that is not a string', (c) => (c.openslo = [7]), {}, ['openslo[0]: Invalid input: expected string, received number']],
    [
      'an unknown workflow, said where the document names it',
      (c) => (c.openslo = ['a.yaml']),
      { 'a.yaml': openSlo('plan-upgrad') },
      [`a.yaml: document 1: ${GOOD}.workflow: unknown workflow "plan-upgrad" (known: plan-upgrade, support-ticket)`],
    ],
    [
      'a name the config already uses, and one used twice across files',
      (c) => (c.openslo = ['a.yaml', 'b.yaml']),
      { 'a.yaml': openSlo('plan-upgrade', 'upgrade-sync-5m'), 'b.yaml': `${openSlo()}---\n${openSlo('support-ticket')}` },
      ['a.yaml: document 1: metadata.name: duplicate SLO "upgrade-sync-5m"', 'b.yaml: document 2: metadata.name: duplicate SLO "upgrade-success"'],
    ],
    [
      'problems in the file and in the config, reported together',
      (c) => {
        c.openslo = ['a.yaml'];
        slo0(c).objective = '100%';
      },
      { 'a.yaml': openSlo().replace('Occurrences', 'Timeslices') },
      ['slos[0].objective: 100% leaves no error budget (use e.g. 99.9%)', 'a.yaml: document 1: spec.budgetingMethod: "Timeslices" is not supported (supported: Occurrences)'],
    ],
  ])('%s', (_label, change, files, problems) => {
    expect(problemsOf(change, inMemory(files))).toEqual(problems);
  });

  it('parseConfigText reads them relative to the config file\'s folder by default', () => {
    const folder = fileURLToPath(new URL('../../config/', import.meta.url));
    const text = `sources: [{ name: crm }, { name: billing }, { name: ticketing }]
workflows:
  - { name: plan-upgrade, owner: billing-platform, trigger: { source: crm, type: up }, steps: [{ name: s, source: billing, type: t }], deadline: 5m }
openslo: [openslo/upgrade-success.yaml]
kafka: { brokers: [k:1] }
store: { clickhouse: { url: 'http://ch:8123', database: sw } }
`;
    const config = parseConfigText(text, `${folder}seamwatch.yaml`);
    expect(config.slos.map((s) => [s.name, s.origin])).toEqual([['upgrade-success', 'openslo/upgrade-success.yaml']]);
  });
});

describe('the shipped example config/seamwatch.yaml', () => {
  it('has the two SLOs of the issue and the OpenSLO example', async () => {
    const config = await loadConfig(fileURLToPath(new URL('../../config/seamwatch.yaml', import.meta.url)), {});
    expect(config.slos.map((s) => ({ name: s.name, workflow: s.workflow, owner: s.owner, objective: s.objective, window: s.window, indicator: s.indicator, origin: s.origin }))).toEqual([
      {
        name: 'upgrade-sync-5m',
        workflow: 'plan-upgrade',
        owner: 'billing-platform',
        objective: 0.99,
        window: { kind: 'rolling', durationMs: 28 * DAY },
        indicator: { kind: 'completed-within', thresholdMs: 5 * MINUTE, steps: ['invoice-updated', 'entitlement-activated'] },
        origin: 'config',
      },
      {
        name: 'ticket-resolution',
        workflow: 'support-ticket',
        owner: 'support-ops',
        objective: 0.95,
        window: { kind: 'calendar', unit: 'month', timeZone: 'Europe/Berlin' },
        indicator: { kind: 'success-ratio' },
        origin: 'config',
      },
      {
        name: 'upgrade-success',
        workflow: 'plan-upgrade',
        owner: 'billing-platform',
        objective: 0.995,
        window: { kind: 'rolling', durationMs: 28 * DAY },
        indicator: { kind: 'success-ratio' },
        origin: 'openslo/upgrade-success.yaml',
      },
    ]);
  });
});
