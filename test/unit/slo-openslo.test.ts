import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseOpenSlo } from '../../src/slo/openslo.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;
const GOOD = 'spec.indicator.spec.ratioMetric.good';
const TOTAL = 'spec.indicator.spec.ratioMetric.total';

/** An accepted OpenSLO SLO document; `edit` changes one part of it. */
function document(edit: (doc: Record<string, any>) => void = () => undefined): Record<string, any> {
  const doc: Record<string, any> = {
    apiVersion: 'openslo/v1',
    kind: 'SLO',
    metadata: { name: 'upgrade-sync', displayName: 'Upgrades in sync', labels: { tier: 'one', tags: ['billing'] } },
    spec: {
      description: 'Billing and entitlements in sync within five minutes.',
      service: 'billing-platform',
      budgetingMethod: 'Occurrences',
      timeWindow: [{ duration: '28d', isRolling: true }],
      objectives: [{ displayName: 'in sync', target: 0.99 }],
      indicator: {
        metadata: { name: 'upgrade-sync-ratio' },
        spec: {
          ratioMetric: {
            counter: true,
            good: { metricSource: { type: 'seamwatch', spec: { workflow: 'plan-upgrade', indicator: { 'completed-within': '5m', steps: ['invoice-updated', 'entitlement-activated'] } } } },
            total: { metricSource: { type: 'seamwatch', spec: { workflow: 'plan-upgrade' } } },
          },
        },
      },
    },
  };
  edit(doc);
  return doc;
}

/** YAML for documents: JSON is YAML, one per "---". */
const yaml = (...docs: unknown[]) => docs.map((d) => JSON.stringify(d, null, 2)).join('\n---\n');

function accepted(text: string) {
  const result = parseOpenSlo(text, 'slos.yaml');
  expect(result.problems).toEqual([]);
  return result.slos.map((s) => s.spec);
}

function problems(edit: (doc: Record<string, any>) => void): string[] {
  const result = parseOpenSlo(yaml(document(edit)), 'slos.yaml');
  expect(result.slos.every((s) => s.spec === undefined)).toBe(true);
  return result.problems;
}

describe('accepted OpenSLO documents', () => {
  it('a rolling completed-within SLO becomes an slos: entry; spec.service is the owner', () => {
    expect(accepted(yaml(document()))).toEqual([
      {
        name: 'upgrade-sync',
        workflow: 'plan-upgrade',
        owner: 'billing-platform',
        description: 'Billing and entitlements in sync within five minutes.',
        objective: 0.99,
        window: { kind: 'rolling', durationMs: 28 * DAY },
        indicator: { kind: 'completed-within', thresholdMs: 5 * MINUTE, steps: ['invoice-updated', 'entitlement-activated'] },
        alerting: { minEvents: 20 },
      },
    ]);
  });

  it.each([
    ['1M from a month start in Berlin', '1M', '2024-01-01 00:00:00', 'Europe/Berlin', { kind: 'calendar', unit: 'month', timeZone: 'Europe/Berlin' }],
    ['1w from a Monday', '1w', '2024-01-01 00:00:00', 'UTC', { kind: 'calendar', unit: 'week', timeZone: 'UTC' }],
    ['1Q from 1 April in New York', '1Q', '2024-04-01 00:00:00', 'America/New_York', { kind: 'calendar', unit: 'quarter', timeZone: 'America/New_York' }],
  ])('a calendar window: %s', (_label, duration, startTime, timeZone, window) => {
    const doc = document((d) => (d.spec.timeWindow = [{ duration, isRolling: false, calendar: { startTime, timeZone } }]));
    expect(accepted(yaml(doc))[0]!.window).toEqual(window);
  });

  it('a calendar window with isRolling left out and no start time; targetPercent; the owner annotation wins over spec.service', () => {
    const doc = document((d) => {
      d.spec.timeWindow = [{ duration: '1M', calendar: { timeZone: 'Europe/Berlin' } }];
      d.spec.objectives = [{ targetPercent: 99.5 }];
      d.metadata.annotations = { 'seamwatch.io/owner': 'billing-oncall' };
      d.spec.indicator.spec.ratioMetric.good.metricSource.spec.indicator = { 'success-ratio': {} };
    });
    expect(accepted(yaml(doc))[0]).toMatchObject({
      owner: 'billing-oncall',
      objective: 0.995,
      window: { kind: 'calendar', unit: 'month', timeZone: 'Europe/Berlin' },
      indicator: { kind: 'success-ratio' },
    });
  });

  it('a step-latency indicator, an empty alertPolicies list and a metricSourceRef are fine', () => {
    const doc = document((d) => {
      d.spec.alertPolicies = [];
      d.spec.indicator.spec.ratioMetric.good.metricSource.metricSourceRef = 'seamwatch-store';
      d.spec.indicator.spec.ratioMetric.good.metricSource.spec.indicator = { 'step-latency': '2m', from: 'invoice-updated', to: 'entitlement-activated' };
    });
    expect(accepted(yaml(doc))[0]!.indicator).toEqual({ kind: 'step-latency', thresholdMs: 2 * MINUTE, from: 'invoice-updated', to: 'entitlement-activated' });
  });

  it('several documents: Service and DataSource are skipped, empty documents too, every SLO is kept in order', () => {
    const text = [
      'apiVersion: openslo/v1\nkind: Service\nmetadata: { name: billing-platform }\nspec: { description: Billing }',
      'apiVersion: openslo/v1\nkind: DataSource\nmetadata: { name: prometheus }\nspec: { type: Prometheus, connectionDetails: { url: "http://p" } }',
      '',
      yaml(document()),
      yaml(document((d) => (d.metadata.name = 'upgrade-sync-7d') && (d.spec.timeWindow[0].duration = '7d'))),
    ].join('\n---\n');
    expect(accepted(text).map((s) => [s!.name, s!.window])).toEqual([
      ['upgrade-sync', { kind: 'rolling', durationMs: 28 * DAY }],
      ['upgrade-sync-7d', { kind: 'rolling', durationMs: 7 * DAY }],
    ]);
  });

  it('a start time written as plain YAML, or as ISO', () => {
    const text = (startTime: string) => yaml(document()).replace('"isRolling": true', `"calendar": { "timeZone": "Europe/Berlin", "startTime": ${startTime} }`).replace('"28d"', '"1M"');
    for (const startTime of ['2024-03-01 00:00:00', '2024-03-01T00:00:00', '"2024-03-01 00:00:00"']) {
      expect(accepted(text(startTime))[0]!.window).toEqual({ kind: 'calendar', unit: 'month', timeZone: 'Europe/Berlin' });
    }
    expect(parseOpenSlo(text('2024-03-31T00:00:00'), 'slos.yaml').problems).toEqual([
      'slos.yaml: document 1: spec.timeWindow[0].calendar.startTime: "2024-03-31T00:00:00" does not start a month in Europe/Berlin: seamwatch\'s months start at 00:00 on the 1st of a month',
    ]);
  });

  it('the full example of docs/openslo.md is accepted as documented', () => {
    const doc = readFileSync(new URL('../../docs/openslo.md', import.meta.url), 'utf8');
    const example = /## A full example\s+```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
    expect(accepted(example)).toEqual([
      {
        name: 'upgrade-sync-5m',
        workflow: 'plan-upgrade',
        owner: 'billing-oncall',
        description: 'Billing and entitlements are in sync within five minutes of a plan upgrade.',
        objective: 0.99,
        window: { kind: 'calendar', unit: 'month', timeZone: 'Europe/Berlin' },
        indicator: { kind: 'completed-within', thresholdMs: 5 * MINUTE, steps: ['invoice-updated', 'entitlement-activated'] },
        alerting: { minEvents: 20 },
      },
    ]);
  });

  it('an empty file has nothing in it', () => {
    expect(parseOpenSlo('', 'empty.yaml')).toEqual({ slos: [], problems: [] });
  });

  it('locate() says where an entry key is in the document, for the config\'s cross-checks', () => {
    const [slo] = parseOpenSlo(yaml(document()), 'slos.yaml').slos;
    expect(slo!.locate(['workflow'])).toBe(`slos.yaml: document 1: ${GOOD}.metricSource.spec.workflow`);
    expect(slo!.locate(['indicator', 'steps', 1])).toBe(`slos.yaml: document 1: ${GOOD}.metricSource.spec.indicator.steps[1]`);
    expect(slo!.locate(['name'])).toBe('slos.yaml: document 1: metadata.name');
  });
});

describe('refused OpenSLO documents name the field and what is supported', () => {
  const at = (path: string, message: string) => `slos.yaml: document 1: ${path}: ${message}`;

  it.each<[string, (d: Record<string, any>) => void, string[]]>([
    ['another API version', (d) => (d.apiVersion = 'openslo/v1alpha'), [at('apiVersion', '"openslo/v1alpha" is not supported (supported: openslo/v1)')]],
    ['no API version', (d) => delete d.apiVersion, [at('apiVersion', 'required (openslo/v1)')]],
    ['an AlertPolicy', (d) => (d.kind = 'AlertPolicy'), [at('kind', '"AlertPolicy" is not supported (supported: SLO; Service and DataSource documents are ignored)')]],
    ['an SLI of its own', (d) => (d.kind = 'SLI'), [at('kind', '"SLI" is not supported (supported: SLO; Service and DataSource documents are ignored)')]],
    ['Timeslices budgeting', (d) => (d.spec.budgetingMethod = 'Timeslices'), [at('spec.budgetingMethod', '"Timeslices" is not supported (supported: Occurrences)')]],
    ['no budgeting method', (d) => delete d.spec.budgetingMethod, [at('spec.budgetingMethod', 'required (Occurrences)')]],
    [
      'a threshold metric',
      (d) => (d.spec.indicator.spec = { thresholdMetric: { metricSource: { type: 'seamwatch', spec: {} } } }),
      [at('spec.indicator.spec.thresholdMetric', 'not supported (supported: ratioMetric with good and total)')],
    ],
    ['a Prometheus metric source', (d) => (d.spec.indicator.spec.ratioMetric.good.metricSource.type = 'Prometheus'), [at(`${GOOD}.metricSource.type`, '"Prometheus" is not supported (supported: seamwatch)')]],
    ['a metric source without a type', (d) => delete d.spec.indicator.spec.ratioMetric.total.metricSource.type, [at(`${TOTAL}.metricSource.type`, 'required (seamwatch)')]],
    [
      'bad over total',
      (d) => {
        const ratio = d.spec.indicator.spec.ratioMetric;
        ratio.bad = ratio.good;
        delete ratio.good;
      },
      [at('spec.indicator.spec.ratioMetric.bad', 'not supported (supported: good and total)'), at(GOOD, 'required')],
    ],
    [
      'a raw ratio',
      (d) => (d.spec.indicator.spec.ratioMetric = { raw: { metricSource: { type: 'seamwatch', spec: {} } }, rawType: 'success' }),
      [
        at('spec.indicator.spec.ratioMetric.raw', 'not supported (supported: good and total)'),
        at('spec.indicator.spec.ratioMetric.rawType', 'not supported (supported: good and total)'),
        at(GOOD, 'required'),
        at(TOTAL, 'required'),
      ],
    ],
    ['an SLI by reference', (d) => (d.spec.indicatorRef = 'upgrade-sync-ratio') && delete d.spec.indicator, [at('spec.indicatorRef', 'not supported: define the indicator inline under spec.indicator')]],
    ['no indicator', (d) => delete d.spec.indicator, [at('spec.indicator', 'required')]],
    [
      'total on another workflow',
      (d) => (d.spec.indicator.spec.ratioMetric.total.metricSource.spec.workflow = 'support-ticket'),
      [at(`${TOTAL}.metricSource.spec.workflow`, 'must be the workflow of good ("plan-upgrade")')],
    ],
    [
      'total with an indicator of its own',
      (d) => (d.spec.indicator.spec.ratioMetric.total.metricSource.spec.indicator = { 'success-ratio': {} }),
      [at(`${TOTAL}.metricSource.spec.indicator`, 'not allowed: total counts every run of the workflow')],
    ],
    ['good without its indicator', (d) => delete d.spec.indicator.spec.ratioMetric.good.metricSource.spec.indicator, [at(`${GOOD}.metricSource.spec.indicator`, 'required')]],
    [
      'good with a seamwatch indicator that is wrong',
      (d) => (d.spec.indicator.spec.ratioMetric.good.metricSource.spec.indicator = { 'completed-within': '5 minutes' }),
      [at(`${GOOD}.metricSource.spec.indicator.completed-within`, 'not a duration: "5 minutes" (use e.g. 30s, 5m, 4h, 28d)')],
    ],
    ['a query where seamwatch wants a workflow', (d) => (d.spec.indicator.spec.ratioMetric.good.metricSource.spec.query = 'sum(x)'), [at(`${GOOD}.metricSource.spec.query`, 'unknown key')]],
    ['two objectives', (d) => d.spec.objectives.push({ target: 0.95 }), [at('spec.objectives', 'has 2 objectives; seamwatch supports exactly one')]],
    ['no objective', (d) => (d.spec.objectives = []), [at('spec.objectives', 'required (one objective with target or targetPercent)')]],
    [
      'a time-slice objective',
      (d) => Object.assign(d.spec.objectives[0], { timeSliceTarget: 0.95, timeSliceWindow: '1m' }),
      [
        at('spec.objectives[0].timeSliceTarget', 'not supported: seamwatch budgets by Occurrences, not time slices'),
        at('spec.objectives[0].timeSliceWindow', 'not supported: seamwatch budgets by Occurrences, not time slices'),
      ],
    ],
    ['a threshold objective', (d) => Object.assign(d.spec.objectives[0], { op: 'lte', value: 200 }), [at('spec.objectives[0].op', 'not supported: op and value apply to threshold metrics'), at('spec.objectives[0].value', 'not supported: op and value apply to threshold metrics')]],
    ['target and targetPercent', (d) => (d.spec.objectives[0].targetPercent = 99), [at('spec.objectives[0]', 'give target or targetPercent, not both')]],
    ['a target of 1', (d) => (d.spec.objectives[0].target = 1), [at('spec.objectives[0].target', '100% leaves no error budget (use e.g. 99.9%)')]],
    ['a targetPercent of 100', (d) => (d.spec.objectives[0] = { targetPercent: 100 }), [at('spec.objectives[0].targetPercent', '100% leaves no error budget (use e.g. 99.9%)')]],
    ['a target as text', (d) => (d.spec.objectives[0].target = '99%'), [at('spec.objectives[0].target', 'must be a number')]],
    ['no target', (d) => delete d.spec.objectives[0].target, [at('spec.objectives[0].target', 'required (or targetPercent)')]],
    ['a rolling month', (d) => (d.spec.timeWindow[0].duration = '1M'), [at('spec.timeWindow[0].duration', '"1M" is not supported for a rolling window (use m, h, d or w, e.g. 28d)')]],
    ['a window that is not shorthand', (d) => (d.spec.timeWindow[0].duration = '28 days'), [at('spec.timeWindow[0].duration', 'not a duration: "28 days" (OpenSLO shorthand such as 28d, 1w, 1M)')]],
    ['two windows', (d) => d.spec.timeWindow.push({ duration: '7d', isRolling: true }), [at('spec.timeWindow', 'must be a list of exactly one window')]],
    ['no window', (d) => delete d.spec.timeWindow, [at('spec.timeWindow', 'required (one rolling or calendar window)')]],
    [
      'a calendar of two months',
      (d) => (d.spec.timeWindow = [{ duration: '2M', isRolling: false, calendar: { startTime: '2024-01-01 00:00:00', timeZone: 'UTC' } }]),
      [at('spec.timeWindow[0].duration', '"2M" is not supported for a calendar window (supported: 1w, 1M, 1Q)')],
    ],
    ['a calendar window without its calendar', (d) => (d.spec.timeWindow = [{ duration: '1M', isRolling: false }]), [at('spec.timeWindow[0].calendar', 'required')]],
    [
      'a rolling window with a calendar',
      (d) => (d.spec.timeWindow[0].calendar = { timeZone: 'UTC' }),
      [at('spec.timeWindow[0].calendar', 'not allowed when isRolling is true')],
    ],
    [
      'a month that starts at noon (the OpenSLO README\'s own example)',
      (d) => (d.spec.timeWindow = [{ duration: '1M', isRolling: false, calendar: { startTime: '2022-01-01 12:00:00', timeZone: 'America/New_York' } }]),
      [at('spec.timeWindow[0].calendar.startTime', '"2022-01-01 12:00:00" does not start a month in America/New_York: seamwatch\'s months start at 00:00 on the 1st of a month')],
    ],
    [
      'a week that starts on a Sunday',
      (d) => (d.spec.timeWindow = [{ duration: '1w', calendar: { startTime: '2023-12-31 00:00:00', timeZone: 'UTC' } }]),
      [at('spec.timeWindow[0].calendar.startTime', '"2023-12-31 00:00:00" does not start a week in UTC: seamwatch\'s weeks start at 00:00 on Monday')],
    ],
    [
      'a start time that is no time',
      (d) => (d.spec.timeWindow = [{ duration: '1Q', calendar: { startTime: 'last spring', timeZone: 'UTC' } }]),
      [at('spec.timeWindow[0].calendar.startTime', 'not a start time: "last spring" (use e.g. 2024-01-01 00:00:00)')],
    ],
    [
      'an unknown time zone',
      (d) => (d.spec.timeWindow = [{ duration: '1M', calendar: { startTime: '2024-01-01 00:00:00', timeZone: 'Europe/Berln' } }]),
      [at('spec.timeWindow[0].calendar.timeZone', 'unknown time zone "Europe/Berln" (use an IANA name such as Europe/Berlin, or UTC)')],
    ],
    ['alert policies', (d) => (d.spec.alertPolicies = ['fast-burn']), [at('spec.alertPolicies', 'not supported: seamwatch alerts by its burn-rate tiers (define the SLO in the seamwatch config to change them)')]],
    ['no service', (d) => delete d.spec.service, [at('spec.service', 'required')]],
    ['a name seamwatch cannot use', (d) => (d.metadata.name = 'Upgrade_Sync'), [at('metadata.name', 'must be lower-case letters, digits, ".", "_" or "-"')]],
    ['no name', (d) => delete d.metadata.name, [at('metadata.name', 'required')]],
    ['no metadata', (d) => delete d.metadata, [at('metadata', 'required')]],
    ['an unknown key in spec', (d) => (d.spec.budgetingPolicy = 'x'), [at('spec.budgetingPolicy', 'unknown key')]],
    ['no spec', (d) => delete d.spec, [at('spec', 'required')]],
    [
      'several problems at once',
      (d) => {
        d.spec.budgetingMethod = 'Timeslices';
        d.spec.objectives[0].target = 1.5;
        d.spec.timeWindow[0].duration = '1Y';
      },
      [
        at('spec.budgetingMethod', '"Timeslices" is not supported (supported: Occurrences)'),
        at('spec.timeWindow[0].duration', '"1Y" is not supported for a rolling window (use m, h, d or w, e.g. 28d)'),
        at('spec.objectives[0].target', '1.5 is not a ratio below 1 (write 1.5% or 0.015)'),
      ],
    ],
  ])('%s', (_label, edit, expected) => {
    expect(problems(edit)).toEqual(expected);
  });

  it('a document that is not a mapping', () => {
    expect(parseOpenSlo('- a\n- b\n', 'slos.yaml').problems).toEqual(['slos.yaml: document 1: (root): must be a mapping (an OpenSLO object)']);
  });

  it('a YAML syntax error, with its line', () => {
    expect(parseOpenSlo('apiVersion: openslo/v1\nkind: SLO\nkind: SLO\n', 'slos.yaml').problems).toEqual(['slos.yaml: line 3, column 1: Map keys must be unique']);
  });

  it('a refused document among good ones is named by its number; the good ones still parse', () => {
    const result = parseOpenSlo(yaml(document(), document((d) => (d.kind = 'AlertCondition'))), 'slos.yaml');
    expect(result.problems).toEqual(['slos.yaml: document 2: kind: "AlertCondition" is not supported (supported: SLO; Service and DataSource documents are ignored)']);
    expect(result.slos.map((s) => s.spec?.name)).toEqual(['upgrade-sync']);
  });
});
