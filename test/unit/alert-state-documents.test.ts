import { describe, expect, it } from 'vitest';
import { GLOBAL_PARTITION, type AlertEntry } from '../../src/alerts/lifecycle/alert-book.ts';
import { mergeNotificationLogs, splitAlertState, withoutAlerts } from '../../src/alerts/state-documents.ts';
import type { Alert } from '../../src/alerts/types.ts';

const entry = (fingerprint: string, partition?: number): AlertEntry => ({
  alert: { fingerprint, labels: {}, annotations: {}, state: 'firing', startsAt: 0, endsAt: 0, generatorUrl: '' } as Alert,
  firesAt: 0,
  resolvesAt: Number.POSITIVE_INFINITY,
  fired: true,
  ...(partition === undefined ? {} : { partition }),
});

describe('alert state cut into one document per owned partition', () => {
  const log = {
    entries: {
      'pager\u0000g1': { firing: ['a'], resolved: [], sentAt: 5 },
      'pager\u0000g2': { firing: ['b', 'slo'], resolved: [], sentAt: 6 },
    },
    open: { pager: { a: 1, b: 2, slo: 3, gone: 4 } },
  };

  it('puts each alert, and what receivers were told of it, in its partition document; the rest and the silences in the shared one', () => {
    const docs = splitAlertState('alerts:g', [entry('a', 0), entry('b', 3), entry('slo', GLOBAL_PARTITION), entry('legacy')], log, [], new Set([0, 3]));
    expect([...docs.keys()].sort()).toEqual(['alerts:g:global', 'alerts:g:p0', 'alerts:g:p3']);
    expect(docs.get('alerts:g:p0')).toEqual({ alerts: [entry('a', 0)], notificationLog: { entries: { 'pager\u0000g1': log.entries['pager\u0000g1'] }, open: { pager: { a: 1 } } } });
    expect(docs.get('alerts:g:p3')!.alerts.map((e) => e.alert.fingerprint)).toEqual(['b']);
    expect(docs.get('alerts:g:p3')!.notificationLog).toEqual({ entries: { 'pager\u0000g2': log.entries['pager\u0000g2'] }, open: { pager: { b: 2 } } });
    const shared = docs.get('alerts:g:global')!;
    expect(shared.alerts.map((e) => e.alert.fingerprint)).toEqual(['slo', 'legacy']);
    expect(shared.notificationLog!.open).toEqual({ pager: { slo: 3, gone: 4 } });
    expect(shared.silences).toEqual([]);
  });

  it('keeps the alerts of a partition it does not own in the shared document rather than losing them', () => {
    const docs = splitAlertState('alerts:g', [entry('b', 3)], log, [], new Set([0]));
    expect(docs.get('alerts:g:global')!.alerts.map((e) => e.alert.fingerprint)).toEqual(['b']);
    expect(docs.get('alerts:g:p0')!.alerts).toEqual([]);
  });

  it('merges two logs: every open alert, the newer entry of a group', () => {
    const other = { entries: { 'pager\u0000g1': { firing: ['a', 'c'], resolved: [], sentAt: 9 } }, open: { pager: { c: 7 }, hook: { a: 8 } } };
    expect(mergeNotificationLogs(log, other)).toEqual({
      entries: { 'pager\u0000g1': other.entries['pager\u0000g1'], 'pager\u0000g2': log.entries['pager\u0000g2'] },
      open: { pager: { a: 1, b: 2, slo: 3, gone: 4, c: 7 }, hook: { a: 8 } },
    });
    expect(withoutAlerts(log, new Set(['a', 'b'])).open).toEqual({ pager: { slo: 3, gone: 4 } });
  });
});
