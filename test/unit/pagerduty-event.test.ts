import { describe, expect, it } from 'vitest';
import { toPagerDutyEvent, truncateSummary, type EventOptions, type PagerDutyTriggerEvent } from '../../src/alerts/pagerduty/event.ts';
import type { Alert } from '../../src/alerts/types.ts';
import { validateEnqueueBody } from '../support/pagerduty-server.ts';

const ROUTING_KEY = 'R0123456789abcdef0123456789abcde';
const OPTIONS: EventOptions = { routingKey: ROUTING_KEY, source: 'seamwatch-prod', clientUrl: 'https://seamwatch.example.com/' };
const T = Date.UTC(2024, 2, 4, 9, 15, 30, 250);

function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    fingerprint: '5f0c2a9e1d7b4c3a',
    labels: { severity: 'critical', team: 'billing', workflow: 'plan-upgrade', detector: 'duplicate-invoice' },
    annotations: { summary: 'ACME was invoiced twice for March 2024', correlationId: 'corr-42', businessKey: 'acct-7/2024-03', invoices: '2' },
    state: 'firing',
    startsAt: T,
    endsAt: 0,
    generatorUrl: 'https://seamwatch.example.com/api/v1/traces/corr-42',
    ...overrides,
  };
}

function trigger(a: Alert, options = OPTIONS): PagerDutyTriggerEvent {
  const mapping = toPagerDutyEvent(a, 'trigger', options);
  if (mapping.kind !== 'valid') throw new Error(`expected a valid event, got ${mapping.errors.join('; ')}`);
  return mapping.event as PagerDutyTriggerEvent;
}

function errorsOf(a: Alert, action: 'trigger' | 'resolve' = 'trigger', options = OPTIONS): string[] {
  const mapping = toPagerDutyEvent(a, action, options);
  return mapping.kind === 'invalid' ? mapping.errors : [];
}

describe('toPagerDutyEvent: trigger', () => {
  it('maps a firing alert to the whole Events API v2 trigger', () => {
    expect(trigger(alert())).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: '5f0c2a9e1d7b4c3a',
      payload: {
        summary: 'ACME was invoiced twice for March 2024',
        source: 'seamwatch-prod',
        severity: 'critical',
        timestamp: '2024-03-04T09:15:30.250Z',
        component: 'plan-upgrade',
        group: 'billing',
        class: 'duplicate-invoice',
        custom_details: {
          correlation_id: 'corr-42',
          business_key: 'acct-7/2024-03',
          workflow: 'plan-upgrade',
          team: 'billing',
          detector: 'duplicate-invoice',
          started_at: '2024-03-04T09:15:30.250Z',
          trace_url: 'https://seamwatch.example.com/api/v1/traces/corr-42',
          invoices: 2,
        },
      },
      links: [{ href: 'https://seamwatch.example.com/api/v1/traces/corr-42', text: 'Workflow trace in seamwatch' }],
      client: 'seamwatch',
      client_url: 'https://seamwatch.example.com/',
    });
  });

  it('is accepted by the contract server as it is', () => {
    expect(validateEnqueueBody(trigger(alert()))).toEqual([]);
    const resolve = toPagerDutyEvent(alert(), 'resolve', OPTIONS);
    expect(resolve.kind).toBe('valid');
    expect(validateEnqueueBody(resolve.kind === 'valid' ? resolve.event : undefined)).toEqual([]);
  });

  it.each([
    ['critical', 'critical'],
    ['error', 'error'],
    ['warning', 'warning'],
    ['info', 'info'],
    ['CRITICAL', 'critical'],
    [' Warning ', 'warning'],
  ])('severity label %j becomes %j', (label, severity) => {
    expect(trigger(alert({ labels: { severity } })).payload.severity).toBe(severity);
    expect(trigger(alert({ labels: { severity: label } })).payload.severity).toBe(severity);
  });

  it('keeps counts as numbers and identifiers with leading zeros as text', () => {
    const details = trigger(alert({ annotations: { summary: 's', duplicates: '3', ratio: '0.25', negative: '-4', invoice: '00123', note: '12 items' } })).payload.custom_details;
    expect(details).toMatchObject({ duplicates: 3, ratio: 0.25, negative: -4, invoice: '00123', note: '12 items' });
  });

  it('puts labels it does not map under custom_details.labels, and uses owner when there is no team', () => {
    const event = trigger(alert({ labels: { severity: 'info', owner: 'support', slo: 'upgrade-sync-5m', tier: 'page' } }));
    expect(event.payload.group).toBe('support');
    expect(event.payload.component).toBeUndefined();
    expect(event.payload.class).toBeUndefined();
    expect(event.payload.custom_details).toMatchObject({ team: 'support', labels: { slo: 'upgrade-sync-5m', tier: 'page' } });
  });

  it('leaves out what the alert does not have: no link without a trace URL, no timestamp without a start', () => {
    const event = trigger(alert({ generatorUrl: '', startsAt: 0, annotations: { summary: 'stuck ticket' } }), { routingKey: ROUTING_KEY, source: 'seamwatch' });
    expect(event.links).toBeUndefined();
    expect(event.client_url).toBeUndefined();
    expect(event.payload.timestamp).toBeUndefined();
    expect(event.payload.custom_details).toEqual({ workflow: 'plan-upgrade', team: 'billing', detector: 'duplicate-invoice' });
  });
});

describe('toPagerDutyEvent: resolve', () => {
  it('carries only routing_key, event_action and dedup_key', () => {
    const mapping = toPagerDutyEvent(alert({ state: 'resolved', endsAt: T + 60_000 }), 'resolve', OPTIONS);
    expect(mapping).toEqual({ kind: 'valid', event: { routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: '5f0c2a9e1d7b4c3a' } });
  });

  it('does not need a summary or a severity', () => {
    expect(errorsOf(alert({ labels: {}, annotations: {} }), 'resolve')).toEqual([]);
  });
});

describe('truncateSummary', () => {
  it('leaves 1024 characters alone', () => {
    const text = 'x'.repeat(1024);
    expect(truncateSummary(text)).toBe(text);
  });

  it('cuts 1025 characters to 1023 and an ellipsis', () => {
    const cut = truncateSummary('y'.repeat(1025));
    expect(cut).toHaveLength(1024);
    expect(cut).toBe(`${'y'.repeat(1023)}…`);
  });

  it('never splits a surrogate pair at the cut', () => {
    // 1022 ASCII characters then emoji: the pair would straddle code units 1022–1023.
    const text = `${'a'.repeat(1022)}${'😀'.repeat(10)}`;
    const cut = truncateSummary(text);
    expect(cut).toBe(`${'a'.repeat(1022)}…`);
    expect(cut.length).toBeLessThanOrEqual(1024);
    expect(cut.isWellFormed()).toBe(true);
  });

  it('keeps a pair that ends right before the cut', () => {
    const text = `${'a'.repeat(1021)}😀${'b'.repeat(10)}`;
    const cut = truncateSummary(text);
    expect(cut).toBe(`${'a'.repeat(1021)}😀…`);
    expect(cut.isWellFormed()).toBe(true);
  });

  it('gives every long summary a valid length for PagerDuty, whatever the text', () => {
    for (const unit of ['é', '😀', '👩‍👩‍👧', 'a😀', '中文']) {
      for (let n = 1000; n < 1100; n += 7) {
        const cut = truncateSummary(unit.repeat(n));
        expect(cut.length).toBeLessThanOrEqual(1024);
        expect(cut.isWellFormed()).toBe(true);
      }
    }
  });

  it('is applied by the mapping', () => {
    const event = trigger(alert({ annotations: { summary: 'z'.repeat(5_000) } }));
    expect(event.payload.summary).toHaveLength(1024);
    expect(event.payload.summary.endsWith('…')).toBe(true);
  });
});

describe('toPagerDutyEvent: what PagerDuty would reject fails before sending', () => {
  it.each<[string, Alert, EventOptions, string[]]>([
    ['an empty routing key', alert(), { ...OPTIONS, routingKey: '' }, ['routing_key: missing']],
    ['a routing key of the wrong length', alert(), { ...OPTIONS, routingKey: 'short' }, ['routing_key: must be 32 characters (is 5)']],
    ['a missing summary', alert({ annotations: {} }), OPTIONS, ['payload.summary: missing']],
    ['a blank summary', alert({ annotations: { summary: '   ' } }), OPTIONS, ['payload.summary: missing']],
    ['a missing severity', alert({ labels: { team: 'billing' } }), OPTIONS, ['payload.severity: missing (one of critical, error, warning, info)']],
    ['a severity PagerDuty does not know', alert({ labels: { severity: 'sev1' } }), OPTIONS, ['payload.severity: "sev1" is not one of critical, error, warning, info']],
    ['an empty source', alert(), { ...OPTIONS, source: ' ' }, ['payload.source: missing']],
    ['an empty fingerprint', alert({ fingerprint: '' }), OPTIONS, ['dedup_key: missing (the alert has no fingerprint)']],
    ['a fingerprint over 255 characters', alert({ fingerprint: 'f'.repeat(256) }), OPTIONS, ['dedup_key: longer than 255 characters (is 256)']],
    ['a trace link that is not a URL', alert({ generatorUrl: '/api/v1/traces/corr-42' }), OPTIONS, ['links[0].href: not an absolute http(s) URL']],
  ])('%s', (_name, a, options, expected) => {
    expect(errorsOf(a, 'trigger', options)).toEqual(expected);
  });

  it('reports every problem at once', () => {
    expect(errorsOf(alert({ labels: { severity: 'page' }, annotations: {} }), 'trigger', { ...OPTIONS, routingKey: '' })).toEqual([
      'routing_key: missing',
      'payload.summary: missing',
      'payload.severity: "page" is not one of critical, error, warning, info',
    ]);
  });

  it('checks a resolve for its routing key and dedup key', () => {
    expect(errorsOf(alert({ fingerprint: '' }), 'resolve', { ...OPTIONS, routingKey: '' })).toEqual(['routing_key: missing', 'dedup_key: missing (required to resolve)']);
  });

  it('never puts the routing key into a message', () => {
    const key = 'secret-key-that-is-too-long-for-pagerduty';
    expect(errorsOf(alert(), 'trigger', { ...OPTIONS, routingKey: key }).join(' ')).not.toContain(key);
  });

  it('agrees with the contract server: what is refused locally, PagerDuty refuses too', () => {
    const cases: [Alert, EventOptions][] = [
      [alert(), { ...OPTIONS, routingKey: 'short' }],
      [alert({ annotations: {} }), OPTIONS],
      [alert({ labels: { severity: 'sev1' } }), OPTIONS],
      [alert({ fingerprint: 'f'.repeat(256) }), OPTIONS],
    ];
    for (const [a, options] of cases) {
      expect(toPagerDutyEvent(a, 'trigger', options).kind).toBe('invalid');
      // Build the event the way the mapping would have, without its checks, and ask the server.
      const unchecked = { ...trigger(alert(), OPTIONS), routing_key: options.routingKey, dedup_key: a.fingerprint };
      unchecked.payload = { ...unchecked.payload, summary: a.annotations.summary ?? '', severity: (a.labels.severity ?? '') as 'info' };
      expect(validateEnqueueBody(unchecked).length).toBeGreaterThan(0);
    }
  });
});
