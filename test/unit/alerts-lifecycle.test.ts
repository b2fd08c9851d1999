import { describe, expect, it } from 'vitest';
import { AlertBook, type AlertChange, type LifecycleOptions } from '../../src/alerts/lifecycle/alert-book.ts';
import { fingerprint } from '../../src/alerts/lifecycle/fingerprint.ts';
import type { DetectorSignal } from '../../src/alerts/types.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 20, 9);
const OPTIONS: LifecycleOptions = { pendingFor: 0, keepFiringFor: 0, traceUrlBase: 'http://seamwatch.local/traces/' };

function signal(kind: DetectorSignal['kind'], at: number, key = 'acct-1:2026-11'): DetectorSignal {
  return {
    kind,
    detector: 'duplicate-invoice',
    key,
    workflow: 'billing',
    owner: 'billing-platform',
    severity: 'critical',
    summary: 'Account acct-1 was invoiced twice for 2026-11',
    correlationId: 'corr 1/x',
    businessKey: key,
    at: T0 + at,
    details: { invoices: 2 },
  };
}

const kinds = (changes: AlertChange[]) => changes.map((c) => `${c.kind}@${(c.alert.endsAt || c.alert.startsAt) - T0}`);

describe('AlertBook', () => {
  it('fires at once without a pending period, with labels, annotations and a trace link', () => {
    const book = new AlertBook(OPTIONS);
    const changes = book.apply(signal('firing', 0));
    expect(changes.map((c) => c.kind)).toEqual(['pending', 'firing']);
    expect(changes[1]!.alert).toEqual({
      fingerprint: fingerprint('duplicate-invoice', 'billing', 'acct-1:2026-11'),
      labels: { alertname: 'duplicate-invoice', detector: 'duplicate-invoice', team: 'billing-platform', severity: 'critical', workflow: 'billing' },
      annotations: { summary: 'Account acct-1 was invoiced twice for 2026-11', correlation_id: 'corr 1/x', business_key: 'acct-1:2026-11', invoices: '2' },
      state: 'firing',
      startsAt: T0,
      endsAt: 0,
      generatorUrl: 'http://seamwatch.local/traces/corr%201%2Fx',
    });
  });

  it('holds a problem pending for pendingFor of event time before it fires', () => {
    const book = new AlertBook({ ...OPTIONS, pendingFor: 5 * MIN });
    expect(kinds(book.apply(signal('firing', 0)))).toEqual(['pending@0']);
    expect(book.tick(T0 + 5 * MIN - 1)).toEqual([]);
    expect(kinds(book.tick(T0 + 5 * MIN))).toEqual(['firing@0']);
    expect(book.tick(T0 + 6 * MIN)).toEqual([]);
  });

  it('records a problem that is over before it fired, and never pages it', () => {
    const book = new AlertBook({ ...OPTIONS, pendingFor: 5 * MIN });
    book.apply(signal('firing', 0));
    expect(kinds(book.apply(signal('resolved', 2 * MIN)))).toEqual(['dropped@' + 2 * MIN]);
    expect(book.tick(T0 + 10 * MIN)).toEqual([]);
    expect(book.list()).toEqual([]);
  });

  it('keeps a resolved problem firing for keepFiringFor, then resolves it at the time it ended', () => {
    const book = new AlertBook({ ...OPTIONS, keepFiringFor: 10 * MIN });
    book.apply(signal('firing', 0));
    expect(book.apply(signal('resolved', 20 * MIN))).toEqual([]);
    expect(book.tick(T0 + 30 * MIN - 1)).toEqual([]);
    expect(kinds(book.tick(T0 + 30 * MIN))).toEqual([`resolved@${20 * MIN}`]);
  });

  it('does not page twice for a problem that flaps back within keepFiringFor', () => {
    const book = new AlertBook({ ...OPTIONS, keepFiringFor: 10 * MIN });
    const changes = [
      ...book.apply(signal('firing', 0)),
      ...book.apply(signal('resolved', 5 * MIN)),
      ...book.tick(T0 + 8 * MIN),
      ...book.apply(signal('firing', 9 * MIN)),
      ...book.tick(T0 + 30 * MIN),
      ...book.apply(signal('resolved', 40 * MIN)),
      ...book.tick(T0 + 50 * MIN),
    ];
    expect(kinds(changes)).toEqual(['pending@0', 'firing@0', `resolved@${40 * MIN}`]);
  });

  it('opens a new episode when a resolved problem fires again later', () => {
    const book = new AlertBook(OPTIONS);
    const changes = [...book.apply(signal('firing', 0)), ...book.apply(signal('resolved', MIN)), ...book.apply(signal('firing', 60 * MIN))];
    expect(kinds(changes)).toEqual(['pending@0', 'firing@0', `resolved@${MIN}`, `pending@${60 * MIN}`, `firing@${60 * MIN}`]);
  });

  it('ignores a resolve for a problem it never saw, and a repeated firing signal', () => {
    const book = new AlertBook(OPTIONS);
    expect(book.apply(signal('resolved', 0))).toEqual([]);
    book.apply(signal('firing', MIN));
    expect(book.apply(signal('firing', 2 * MIN))).toEqual([]);
  });

  it('continues from a snapshot without paging again (a restart)', () => {
    const book = new AlertBook(OPTIONS);
    book.apply(signal('firing', 0));
    const restarted = new AlertBook(OPTIONS, book.snapshot());
    expect(restarted.apply(signal('firing', MIN))).toEqual([]);
    expect(kinds(restarted.apply(signal('resolved', 2 * MIN)))).toEqual([`resolved@${2 * MIN}`]);
  });

  it('gives different problems different fingerprints, and the same problem the same one', () => {
    expect(fingerprint('d', 'w', 'k')).toBe(fingerprint('d', 'w', 'k'));
    expect(new Set([fingerprint('d', 'w', 'k'), fingerprint('d', 'w', 'k2'), fingerprint('d', 'w2', 'k'), fingerprint('d2', 'w', 'k'), fingerprint('d', 'wk', '')]).size).toBe(5);
    expect(fingerprint('d', 'w', 'k')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('forgets resolved alerts past a horizon, never firing ones', () => {
    const book = new AlertBook(OPTIONS);
    book.apply(signal('firing', 0, 'a'));
    book.apply(signal('resolved', MIN, 'a'));
    book.apply(signal('firing', 0, 'b'));
    expect(book.forgetResolvedBefore(T0 + 2 * MIN)).toBe(1);
    expect(book.list().map((a) => a.state)).toEqual(['firing']);
  });
});

describe('AlertBook: problems already over when first seen', () => {
  it('records a problem whose begin and end arrive together, and does not page it', () => {
    const book = new AlertBook(OPTIONS);
    expect(kinds(book.applyAll([signal('firing', 0), signal('resolved', 3 * MIN)]))).toEqual([`dropped@${3 * MIN}`]);
    expect(book.list()).toEqual([]);
  });

  it('pages it when pageHistoric is set', () => {
    const book = new AlertBook({ ...OPTIONS, pageHistoric: true });
    expect(kinds(book.applyAll([signal('firing', 0), signal('resolved', 3 * MIN)]))).toEqual(['pending@0', 'firing@0', `resolved@${3 * MIN}`]);
  });

  it('still resolves a known problem whose end arrives with another begin', () => {
    const book = new AlertBook(OPTIONS);
    book.apply(signal('firing', 0, 'a'));
    expect(kinds(book.applyAll([signal('resolved', MIN, 'a'), signal('firing', MIN, 'b')]))).toEqual([`resolved@${MIN}`, `pending@${MIN}`, `firing@${MIN}`]);
  });
});
