import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createDetectors } from '../../src/alerts/detectors/build.ts';
import { readBusinessKey } from '../../src/alerts/detectors/business-key.ts';
import { detectorReferenceProblems, detectorsSchema } from '../../src/alerts/detectors/config.ts';
import { replay } from '../../src/alerts/detectors/replay.ts';
import { fillTemplate, listOf, templatePlaceholders, times } from '../../src/alerts/detectors/summary-template.ts';
import { formatPath } from '../../src/config/load.ts';
import type { WorkflowDefinition } from '../../src/domain/workflow.ts';
import type { WorkflowEvent } from '../../src/domain/event.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const DETECTORS_YAML = `
errors:
  rules:
    - { code: "409", is: transient }
duplicateEffects:
  - name: duplicate-invoice
    owner: billing-platform
    match: { source: billing, type: invoice.created }
    businessKey: [account_id, billing_period]
    window: 35d
    summary: "Account {account_id} was invoiced {times} for {billing_period} (invoices {events}) — refund or void one"
stuck:
  - name: stuck-ticket
    owner: support-ops
    start: { source: ticketing, type: ticket.opened }
    progress: [{ source: ticketing, type: ticket.updated }]
    end: { source: ticketing, type: ticket.resolved }
    after: 4h
missedDeadlines:
  - { name: upgrade-late, workflow: plan-upgrade }
partialFailures:
  - { name: charged-not-entitled, workflow: plan-upgrade, irreversible: [invoice-updated] }
exclusiveOutcomes:
  - name: invoice-voided-and-paid
    owner: billing-platform
    outcomes:
      - { name: voided, source: billing, type: invoice.voided }
      - { name: paid, source: billing, type: invoice.paid }
    key: { invoice: "lines[0].invoice" }
sourceSilence:
  - { name: billing-silent, owner: billing-platform, sources: [billing], after: 15m }
`;

const PLAN_UPGRADE: WorkflowDefinition = {
  name: 'plan-upgrade',
  owner: 'billing-platform',
  trigger: { source: 'crm', type: 'subscription.upgraded' },
  steps: [
    { name: 'invoice-updated', source: 'billing', type: 'invoice.updated', required: true, failOn: ['invoice.update_failed'] },
    { name: 'entitlement-activated', source: 'billing', type: 'entitlement.activated', required: true, failOn: ['entitlement.failed'] },
  ],
  compensation: [],
  deadline: 5 * MIN,
};

/** Every problem as `path: message`, the way `seamwatch validate` prints them. */
function problems(input: unknown): string[] {
  const result = detectorsSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
}

describe('detectors config: a good section', () => {
  it('parses into durations in ms, lists of matchers, parsed field paths and defaults', () => {
    const config = detectorsSchema.parse(parse(DETECTORS_YAML));
    expect(config.errors).toEqual({ rules: [{ code: '409', is: 'transient' }], defaults: true });
    expect(config.duplicateEffects[0]).toEqual({
      name: 'duplicate-invoice',
      owner: 'billing-platform',
      severity: 'critical',
      match: [{ source: 'billing', type: 'invoice.created' }],
      businessKey: [
        { name: 'account_id', path: ['account_id'] },
        { name: 'billing_period', path: ['billing_period'] },
      ],
      window: 35 * DAY,
      settle: 0,
      summary: 'Account {account_id} was invoiced {times} for {billing_period} (invoices {events}) — refund or void one',
      maxKeys: 100_000,
    });
    expect(config.stuck[0]).toMatchObject({ severity: 'warning', after: 4 * HOUR, forgetAfter: 30 * DAY, end: [{ source: 'ticketing', type: 'ticket.resolved' }] });
    expect(config.missedDeadlines[0]).toEqual({ name: 'upgrade-late', workflow: 'plan-upgrade', severity: 'error', forgetAfter: 7 * DAY, maxKeys: 100_000 });
    expect(config.partialFailures[0]).toMatchObject({ severity: 'critical', unknownErrors: 'permanent', forgetAfter: 7 * DAY });
    expect(config.exclusiveOutcomes[0]).toMatchObject({ window: 30 * DAY, key: [{ name: 'invoice', path: ['lines', 0, 'invoice'] }] });
    expect(config.sourceSilence[0]).toEqual({ name: 'billing-silent', owner: 'billing-platform', severity: 'error', sources: ['billing'], after: 15 * MIN });
  });

  it('an empty section is valid and has no detectors', () => {
    expect(detectorsSchema.parse({})).toEqual({
      errors: { rules: [], defaults: true },
      duplicateEffects: [],
      stuck: [],
      missedDeadlines: [],
      partialFailures: [],
      exclusiveOutcomes: [],
      sourceSilence: [],
    });
  });

  it('builds every detector, with the configured error rules', () => {
    const set = createDetectors(detectorsSchema.parse(parse(DETECTORS_YAML)), [PLAN_UPGRADE]);
    expect(set.onEvents.map((d) => d.name)).toEqual(['duplicate-invoice', 'stuck-ticket', 'charged-not-entitled', 'invoice-voided-and-paid', 'billing-silent']);
    expect(set.onRuns.map((d) => d.name)).toEqual(['upgrade-late']);
    const partial = set.onEvents[2]!;
    const event = (type: string, id: string, minute: number, code?: string): { input: WorkflowEvent; watermark: number } => ({
      input: { source: 'billing', id, type, time: minute * MIN, correlationId: 'c-1', ...(code ? { error: { code } } : {}), origin: { topic: 'b', partition: 0, offset: '0' } },
      watermark: minute * MIN,
    });
    // 409 is transient by the configured rule (the built-in ones call it permanent).
    expect(replay(partial, [event('invoice.updated', 'i1', 0), event('entitlement.failed', 'e1', 1, '409')]).signals).toEqual([]);
    expect(replay(partial, [event('invoice.updated', 'i1', 0), event('entitlement.failed', 'e1', 1, '422')]).signals).toHaveLength(1);
  });

  it('refuses to build a detector for a workflow it was not given', () => {
    expect(() => createDetectors(detectorsSchema.parse(parse(DETECTORS_YAML)), [])).toThrow('detectors: unknown workflow "plan-upgrade"');
  });
});

describe('detectors config: every problem, with its key path', () => {
  const base = () => parse(DETECTORS_YAML) as Record<string, any>;

  it.each<[string, (c: Record<string, any>) => void, string[]]>([
    ['a duration in words', (c) => (c.duplicateEffects[0].window = '35 days'), ['duplicateEffects[0].window: not a duration: "35 days" (use e.g. 30s, 5m, 4h, 7d)']],
    ['a zero threshold', (c) => (c.stuck[0].after = '0s'), ['stuck[0].after: must be longer than 0']],
    ['forgetting before being stuck', (c) => (c.stuck[0].forgetAfter = '1h'), ['stuck[0].forgetAfter: must be longer than after (4h)']],
    ['a bad field path', (c) => (c.duplicateEffects[0].businessKey = ['account_id', 'period..start']), ['duplicateEffects[0].businessKey[1]: bad field path "period..start" at character 7']],
    ['a bad field path in a named key', (c) => (c.exclusiveOutcomes[0].key = { invoice: 'lines[' }), ['exclusiveOutcomes[0].key.invoice: bad field path "lines[" at character 6']],
    ['an empty business key', (c) => (c.duplicateEffects[0].businessKey = {}), ['duplicateEffects[0].businessKey: must name at least one field']],
    ['a business key that is neither', (c) => (c.duplicateEffects[0].businessKey = 'account_id'), ['duplicateEffects[0].businessKey: must be a list of field paths or a map of name: field path']],
    [
      'a placeholder the summary cannot fill',
      (c) => (c.duplicateEffects[0].summary = 'Account {acount_id} twice'),
      ['duplicateEffects[0].summary: unknown placeholder {acount_id} (known: {businessKey}, {count}, {times}, {events}, {type}, {window}, {correlationIds}, {account_id}, {billing_period})'],
    ],
    ['an unknown severity', (c) => (c.sourceSilence[0].severity = 'page'), ['sourceSilence[0].severity: must be one of critical, error, warning, info']],
    ['a source listed twice', (c) => (c.sourceSilence[0].sources = ['billing', 'crm', 'billing']), ['sourceSilence[0].sources[2]: "billing" is listed twice']],
    ['one outcome only', (c) => c.exclusiveOutcomes[0].outcomes.pop(), ['exclusiveOutcomes[0].outcomes: needs at least two outcomes']],
    ['two outcomes of one name', (c) => (c.exclusiveOutcomes[0].outcomes[1].name = 'voided'), ['exclusiveOutcomes[0].outcomes[1].name: duplicate outcome "voided"']],
    ['an unknown way to count unknown errors', (c) => (c.partialFailures[0].unknownErrors = 'ignore'), ['partialFailures[0].unknownErrors: must be permanent or transient']],
    ['no irreversible step', (c) => (c.partialFailures[0].irreversible = []), ['partialFailures[0].irreversible: Too small: expected array to have >=1 items']],
    ['a matcher without a type', (c) => (c.stuck[0].start = { source: 'ticketing' }), ['stuck[0].start: must be { source, type } or a list of them']],
    ['a name used twice, across kinds', (c) => (c.sourceSilence[0].name = 'stuck-ticket'), ['sourceSilence[0].name: duplicate detector "stuck-ticket"']],
    ['a misspelt key', (c) => (c.stuck[0].afer = '4h'), ['stuck[0]: Unrecognized key: "afer"']],
    ['an unknown kind of detector', (c) => (c.heartbeats = []), ['(root): Unrecognized key: "heartbeats"']],
    [
      'several problems at once',
      (c) => {
        c.duplicateEffects[0].window = 'soon';
        c.stuck[0].after = '-1h';
      },
      ['duplicateEffects[0].window: not a duration: "soon" (use e.g. 30s, 5m, 4h, 7d)', 'stuck[0].after: not a duration: "-1h" (use e.g. 30s, 5m, 4h, 7d)'],
    ],
  ])('%s', (_label, change, expected) => {
    const config = base();
    change(config);
    expect(problems(config)).toEqual(expected);
  });
});

describe('detectors config: references to sources, workflows and steps', () => {
  const whole = (detectors: Record<string, any>) => ({
    sources: [{ name: 'crm' }, { name: 'billing' }, { name: 'ticketing' }],
    workflows: [
      {
        name: 'plan-upgrade',
        owner: 'billing-platform',
        trigger: { source: 'crm', type: 'subscription.upgraded' },
        steps: [
          { name: 'invoice-updated', source: 'billing', type: 'invoice.updated', failOn: ['invoice.update_failed'] },
          { name: 'entitlement-activated', source: 'billing', type: 'entitlement.activated', failOn: ['entitlement.failed'] },
          { name: 'ticket-tagged', source: 'ticketing', type: 'ticket.tagged' },
        ],
        deadline: '5m',
      },
    ],
    detectors,
  });
  const report = (detectors: Record<string, any>) => detectorReferenceProblems(whole(detectors)).map((p) => `${formatPath(p.path)}: ${p.message}`);

  it('the example section refers only to what exists', () => {
    expect(report(parse(DETECTORS_YAML))).toEqual([]);
  });

  it.each<[string, Record<string, any>, string[]]>([
    [
      'unknown sources wherever a detector names one',
      {
        duplicateEffects: [{ name: 'a', match: [{ source: 'bilin', type: 'invoice.created' }] }],
        stuck: [{ name: 'b', start: { source: 'tickets', type: 'x' }, end: [{ source: 'ticketing', type: 'y' }, { source: 'jira', type: 'z' }] }],
        exclusiveOutcomes: [{ name: 'c', outcomes: [{ source: 'billing' }, { source: 'stripe' }] }],
        sourceSilence: [{ name: 'd', sources: ['billing', 'erp'] }],
      },
      [
        'detectors.duplicateEffects[0].match[0].source: unknown source "bilin" (known: crm, billing, ticketing)',
        'detectors.stuck[0].start.source: unknown source "tickets" (known: crm, billing, ticketing)',
        'detectors.stuck[0].end[1].source: unknown source "jira" (known: crm, billing, ticketing)',
        'detectors.exclusiveOutcomes[0].outcomes[1].source: unknown source "stripe" (known: crm, billing, ticketing)',
        'detectors.sourceSilence[0].sources[1]: unknown source "erp" (known: crm, billing, ticketing)',
      ],
    ],
    [
      'unknown workflows',
      { missedDeadlines: [{ name: 'a', workflow: 'plan-upgrad' }], stuck: [{ name: 'b', workflow: 'support-ticket', start: { source: 'ticketing', type: 'x' } }] },
      [
        'detectors.stuck[0].workflow: unknown workflow "support-ticket" (known: plan-upgrade)',
        'detectors.missedDeadlines[0].workflow: unknown workflow "plan-upgrad" (known: plan-upgrade)',
      ],
    ],
    [
      'an irreversible step the workflow does not have',
      { partialFailures: [{ name: 'a', workflow: 'plan-upgrade', irreversible: ['invoice-updated', 'charge'] }] },
      ['detectors.partialFailures[0].irreversible[1]: unknown step "charge" of workflow "plan-upgrade" (known: invoice-updated, entitlement-activated, ticket-tagged)'],
    ],
    [
      'nothing else in the workflow can fail',
      { partialFailures: [{ name: 'a', workflow: 'plan-upgrade', irreversible: ['invoice-updated', 'entitlement-activated'] }] },
      ['detectors.partialFailures[0].irreversible: no other step of workflow "plan-upgrade" has failOn events, so nothing can fail after these'],
    ],
    ['any shape is tolerated: the schema reports it', { stuck: 'yes', duplicateEffects: [null, 3, { match: 7 }] }, []],
  ])('%s', (_label, detectors, expected) => {
    expect(report(detectors)).toEqual(expected);
  });
});

describe('summaries and business keys', () => {
  it.each<[string, Record<string, string>, string]>([
    ['Account {account_id} was invoiced {times}', { account_id: 'acme', times: 'twice' }, 'Account acme was invoiced twice'],
    ['{a}{a} {b}', { a: 'x', b: '' }, 'xx '],
    ['{unknown} stays as written', {}, '{unknown} stays as written'],
    ['{lines[0].id} paths as names', { 'lines[0].id': 'L1' }, 'L1 paths as names'],
    ['no { placeholder } here? {} {', {}, 'no { placeholder } here? {} {'],
  ])('fills %j', (template, values, text) => {
    expect(fillTemplate(template, values)).toBe(text);
  });

  it('lists the placeholders of a template', () => {
    expect(templatePlaceholders('{a} and {b.c} and {a}')).toEqual(['a', 'b.c', 'a']);
  });

  it.each([
    [1, 'once'],
    [2, 'twice'],
    [3, '3 times'],
  ])('%i → %s', (count, text) => {
    expect(times(count)).toBe(text);
  });

  it.each([
    [[], ''],
    [['a'], 'a'],
    [['a', 'b'], 'a and b'],
    [['a', 'b', 'c'], 'a, b and c'],
  ])('lists %j as %j', (items, text) => {
    expect(listOf(items)).toBe(text);
  });

  const fields = [
    { name: 'account', path: ['customer', 'id'] },
    { name: 'period', path: ['period'] },
  ];
  it.each<[string, unknown, ReturnType<typeof readBusinessKey>]>([
    ['strings', { customer: { id: 'acme' }, period: '2026-11' }, { key: '["acme","2026-11"]', text: 'account=acme, period=2026-11', values: { account: 'acme', period: '2026-11' } }],
    ['numbers and booleans as text', { customer: { id: 42 }, period: true }, { key: '["42","true"]', text: 'account=42, period=true', values: { account: '42', period: 'true' } }],
    ['a missing field: no key', { customer: { id: 'acme' } }, undefined],
    ['null: no key', { customer: { id: null }, period: '2026-11' }, undefined],
    ['an empty string: no key', { customer: { id: '' }, period: '2026-11' }, undefined],
    ['a structured value: no key', { customer: { id: { nested: 1 } }, period: '2026-11' }, undefined],
    ['no data at all: no key', undefined, undefined],
  ])('reads a business key: %s', (_label, data, expected) => {
    expect(readBusinessKey(fields, data)).toEqual(expected);
  });

  it('keys cannot collide through separators in the values', () => {
    const a = readBusinessKey(fields, { customer: { id: 'a","b' }, period: 'c' })!;
    const b = readBusinessKey(fields, { customer: { id: 'a' }, period: 'b","c' })!;
    expect(a.key).not.toBe(b.key);
  });
});
