import { describe, expect, it } from 'vitest';
import { referenceProblems, type ReferenceProblem } from '../../src/config/references.ts';

const mappedSource = (name: string, paths: Record<string, unknown>) => ({
  name,
  format: 'mapped',
  mapping: { id: { path: 'id' }, type: { path: 'type' }, correlationid: { path: 'cid' }, time: { path: 'at' }, ...paths },
});

const workflow = (overrides: Record<string, unknown> = {}) => ({
  name: 'plan-upgrade',
  owner: 'billing-platform',
  trigger: { source: 'crm', type: 'subscription.upgraded' },
  steps: [
    { name: 'invoice-updated', source: 'billing', type: 'invoice.updated', failOn: ['invoice.update_failed'] },
    { name: 'ticket-tagged', source: 'crm', type: 'ticket.tagged', required: false },
  ],
  deadline: '5m',
  ...overrides,
});

describe('referenceProblems', () => {
  it('finds nothing wrong in consistent names and paths', () => {
    expect(referenceProblems({ sources: [{ name: 'crm' }, mappedSource('billing', {})], workflows: [workflow()] })).toEqual([]);
  });

  it.each<[string, unknown, ReferenceProblem[]]>([
    [
      'a step names a source nobody configured',
      { sources: [{ name: 'crm' }, { name: 'billing' }], workflows: [workflow({ steps: [{ name: 's', source: 'bilin', type: 't' }] })] },
      [{ path: ['workflows', 0, 'steps', 0, 'source'], message: 'unknown source "bilin" (known: crm, billing)' }],
    ],
    [
      'the trigger names an unknown source',
      { sources: [{ name: 'billing' }], workflows: [workflow({ steps: [{ name: 's', source: 'billing', type: 't' }] })] },
      [{ path: ['workflows', 0, 'trigger', 'source'], message: 'unknown source "crm" (known: billing)' }],
    ],
    [
      'a compensation step names an unknown source',
      {
        sources: [{ name: 'crm' }, { name: 'billing' }],
        workflows: [workflow({ compensation: [{ name: 'undo', source: 'erp', type: 'upgrade.reverted' }] })],
      },
      [{ path: ['workflows', 0, 'compensation', 0, 'source'], message: 'unknown source "erp" (known: crm, billing)' }],
    ],
    [
      'two sources share a name',
      { sources: [{ name: 'crm' }, { name: 'billing' }, { name: 'crm' }] },
      [{ path: ['sources', 2, 'name'], message: 'duplicate source "crm"' }],
    ],
    [
      'two sources share a topic (a topic speaks for one source)',
      { sources: [{ name: 'crm' }, { name: 'billing', topic: 'crm.events' }] },
      [{ path: ['sources', 1, 'topic'], message: 'topic "crm.events" is already source "crm"\'s' }],
    ],
    [
      'two workflows share a name',
      { sources: [{ name: 'crm' }, { name: 'billing' }], workflows: [workflow(), workflow()] },
      [{ path: ['workflows', 1, 'name'], message: 'duplicate workflow "plan-upgrade"' }],
    ],
    [
      'a step and a compensation step share a name',
      {
        sources: [{ name: 'crm' }, { name: 'billing' }],
        workflows: [workflow({ compensation: [{ name: 'invoice-updated', source: 'billing', type: 'invoice.voided' }] })],
      },
      [{ path: ['workflows', 0, 'compensation', 0, 'name'], message: 'duplicate step "invoice-updated"' }],
    ],
    [
      'a step matches the same events as the trigger',
      {
        sources: [{ name: 'crm' }, { name: 'billing' }],
        workflows: [workflow({ steps: [{ name: 'echo', source: 'crm', type: 'subscription.upgraded' }] })],
      },
      [{ path: ['workflows', 0, 'steps', 0, 'type'], message: '"crm/subscription.upgraded" already matches the trigger' }],
    ],
    [
      'a failOn type matches another step',
      {
        sources: [{ name: 'crm' }, { name: 'billing' }],
        workflows: [
          workflow({
            steps: [
              { name: 'invoice-updated', source: 'billing', type: 'invoice.updated' },
              { name: 'paid', source: 'billing', type: 'invoice.paid', failOn: ['invoice.voided', 'invoice.updated'] },
            ],
          }),
        ],
      },
      [{ path: ['workflows', 0, 'steps', 1, 'failOn', 1], message: '"billing/invoice.updated" already matches step "invoice-updated"' }],
    ],
    [
      'a compensation matches the same events as a step',
      {
        sources: [{ name: 'crm' }, { name: 'billing' }],
        workflows: [workflow({ compensation: [{ name: 'undo', source: 'billing', type: 'invoice.update_failed' }] })],
      },
      [{ path: ['workflows', 0, 'compensation', 0, 'type'], message: '"billing/invoice.update_failed" already matches step "invoice-updated"' }],
    ],
    [
      'a step is called "trigger", which the trigger span already is',
      { sources: [{ name: 'crm' }, { name: 'billing' }], workflows: [workflow({ steps: [{ name: 'trigger', source: 'billing', type: 'x' }] })] },
      [{ path: ['workflows', 0, 'steps', 0, 'name'], message: '"trigger" is reserved for the trigger\'s span' }],
    ],
    [
      'every step is optional',
      {
        sources: [{ name: 'crm' }, { name: 'billing' }],
        workflows: [workflow({ steps: [{ name: 'a', source: 'billing', type: 'x', required: false }, { name: 'b', source: 'billing', type: 'y', required: false }] })],
      },
      [{ path: ['workflows', 0, 'steps'], message: 'at least one step must be required' }],
    ],
    [
      'field paths that do not parse, including the error fields',
      {
        sources: [
          mappedSource('billing', {
            id: { path: 'a..b' },
            subject: { path: 'customer[' },
            data: { path: 'object]' },
            error: { code: { path: 'err.' }, message: { value: 'constant..is fine' } },
          }),
        ],
      },
      [
        { path: ['sources', 0, 'mapping', 'id', 'path'], message: 'bad field path "a..b" at character 2' },
        { path: ['sources', 0, 'mapping', 'subject', 'path'], message: 'bad field path "customer[" at character 9' },
        { path: ['sources', 0, 'mapping', 'data', 'path'], message: 'bad field path "object]" at character 7' },
        { path: ['sources', 0, 'mapping', 'error', 'code', 'path'], message: 'bad field path "err." at character 4' },
      ],
    ],
    [
      'type renames are names, not field paths, even one called "path"',
      { sources: [mappedSource('billing', { types: { path: 'a..b', 'x..y': 'z' } })] },
      [],
    ],
  ])('%s', (_label, raw, problems) => {
    expect(referenceProblems(raw)).toEqual(problems);
  });

  it('does not report unknown sources when no source is named at all (the schema reports that)', () => {
    expect(referenceProblems({ sources: [], workflows: [workflow()] })).toEqual([]);
  });

  it.each([null, 'text', 42, [], { sources: 'crm', workflows: {} }, { sources: [null, 7], workflows: [null, { steps: 'x' }] }])(
    'tolerates input of any shape: %j',
    (raw) => {
      expect(referenceProblems(raw)).toEqual([]);
    },
  );
});
