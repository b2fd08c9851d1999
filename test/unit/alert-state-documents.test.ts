import { describe, expect, it } from 'vitest';
import { GLOBAL_PARTITION, SLO_PARTITION, type AlertEntry } from '../../src/alerts/lifecycle/alert-book.ts';
import { documentOf, mergeNotificationLogs, sloOutOfShared, splitAlertState, stormsClearIn, withoutAlerts } from '../../src/alerts/state-documents.ts';
import { stormBucket, stormKey } from '../../src/alerts/notify/storm.ts';
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

  it('puts each alert, and what receivers were told of it, in its partition document; the rest in the shared one', () => {
    const docs = splitAlertState('alerts:g', [entry('a', 0), entry('b', 3), entry('slo', GLOBAL_PARTITION), entry('legacy')], log, new Set([0, 3]));
    expect([...docs.keys()].sort()).toEqual(['alerts:g:global', 'alerts:g:p0', 'alerts:g:p3']);
    expect(docs.get('alerts:g:p0')).toEqual({ alerts: [entry('a', 0)], notificationLog: { entries: { 'pager\u0000g1': log.entries['pager\u0000g1'] }, open: { pager: { a: 1 } } } });
    expect(docs.get('alerts:g:p3')!.alerts.map((e) => e.alert.fingerprint)).toEqual(['b']);
    expect(docs.get('alerts:g:p3')!.notificationLog).toEqual({ entries: { 'pager\u0000g2': log.entries['pager\u0000g2'] }, open: { pager: { b: 2 } } });
    const shared = docs.get('alerts:g:global')!;
    expect(shared.alerts.map((e) => e.alert.fingerprint)).toEqual(['slo', 'legacy']);
    expect(shared.notificationLog!.open).toEqual({ pager: { slo: 3, gone: 4 } });
    expect(shared.silences).toBeUndefined();
  });

  it('puts an open storm in the documents of the partitions whose alerts it covers too, so that it moves with them', () => {
    const labels = { alertname: 'upgrade-late', detector: 'upgrade-late', workflow: 'plan-upgrade' };
    const late = (fingerprint: string, partition: number): AlertEntry => ({ ...entry(fingerprint, partition), alert: { ...entry(fingerprint).alert, labels } });
    const storm = stormKey('pager', 'g1', 'upgrade-late', 'plan-upgrade');
    const other = stormKey('pager', 'g1', 'stuck', 'support');
    const stormLog = {
      entries: { 'pager\u0000g1': { firing: [storm, 'x', 'y'], resolved: [], sentAt: 5 }, 'pager\u0000g2': { firing: ['z'], resolved: [], sentAt: 6 } },
      open: { pager: { [storm]: 4, [other]: 3 } },
    };
    const docs = splitAlertState('alerts:g', [late('x', 0), late('y', 1), late('z', 2)], stormLog, new Set([0, 1, 2]));
    expect(docs.get('alerts:g:p0')!.notificationLog!.open).toEqual({ pager: { [storm]: 4 } });
    expect(docs.get('alerts:g:p1')!.notificationLog!.open).toEqual({ pager: { [storm]: 4 } });
    // z was told in another group: not this storm's.
    expect(docs.get('alerts:g:p2')!.notificationLog!.open).toEqual({});
    expect(docs.get('alerts:g:global')!.notificationLog!.open).toEqual({ pager: { [storm]: 4, [other]: 3 } });
  });

  it("puts the SLO burn alerts in the SLO lead's own document, written only while this instance leads", () => {
    const lead = splitAlertState('alerts:g', [entry('a', 0), entry('slo', SLO_PARTITION)], log, new Set([0, SLO_PARTITION]));
    expect([...lead.keys()].sort()).toEqual(['alerts:g:global', 'alerts:g:p0', 'alerts:g:slo']);
    expect(lead.get('alerts:g:slo')!.alerts.map((e) => e.alert.fingerprint)).toEqual(['slo']);
    expect(lead.get('alerts:g:slo')!.notificationLog).toEqual({ entries: { 'pager\u0000g2': log.entries['pager\u0000g2'] }, open: { pager: { slo: 3 } } });
    expect(lead.get('alerts:g:global')!.alerts).toEqual([]);
    // Not the lead: no SLO document is written, so the lead's is never overwritten.
    const other = splitAlertState('alerts:g', [entry('a', 0)], log, new Set([0]));
    expect([...other.keys()].sort()).toEqual(['alerts:g:global', 'alerts:g:p0']);
  });

  it("takes the SLO burn alerts of an older version's shared document out, with what receivers were told of them, for the lead", () => {
    const burn = (fingerprint: string): AlertEntry => ({ ...entry(fingerprint, GLOBAL_PARTITION), alert: { ...entry(fingerprint).alert, labels: { detector: 'slo-burn' } } });
    const { shared, slo } = sloOutOfShared({ alerts: [burn('slo'), entry('silence', GLOBAL_PARTITION)], notificationLog: log, silences: [] });
    expect(shared.alerts.map((e) => e.alert.fingerprint)).toEqual(['silence']);
    expect(shared.notificationLog).toEqual({ entries: { 'pager\u0000g1': log.entries['pager\u0000g1'] }, open: { pager: { a: 1, b: 2, gone: 4 } } });
    expect(shared.silences).toEqual([]);
    expect(slo!.alerts).toEqual([{ ...burn('slo'), partition: SLO_PARTITION }]);
    expect(slo!.notificationLog).toEqual({ entries: { 'pager\u0000g2': log.entries['pager\u0000g2'] }, open: { pager: { slo: 3 } } });
    // A shared document without them comes back as it is.
    const plain = { alerts: [entry('silence', GLOBAL_PARTITION)], notificationLog: log };
    expect(sloOutOfShared(plain)).toEqual({ shared: plain, slo: undefined });
  });

  it('keeps the alerts of a partition it does not own in the shared document rather than losing them', () => {
    const docs = splitAlertState('alerts:g', [entry('b', 3)], log, new Set([0]));
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

describe('which storms another instance has none of firing (stormsClearIn)', () => {
  const labelled = (fingerprint: string, detector: string, state: 'firing' | 'resolved' = 'firing'): AlertEntry => ({
    ...entry(fingerprint, 1),
    alert: { ...entry(fingerprint).alert, labels: { alertname: detector, detector, workflow: 'plan-upgrade' }, state },
  });
  const late = stormBucket(labelled('x', 'upgrade-late').alert);
  const stuck = stormBucket(labelled('x', 'stuck-ticket').alert);

  it('a bucket with a firing alert in any document is not clear; resolved alerts and other buckets do not count', () => {
    const docs = [
      { alerts: [labelled('a', 'upgrade-late', 'resolved')], notificationLog: undefined },
      { alerts: [labelled('b', 'stuck-ticket')], notificationLog: { entries: {}, open: {} } },
    ];
    expect([...stormsClearIn(docs, 'pager', [late, stuck])]).toEqual([late]);
    expect([...stormsClearIn([], 'pager', [late, stuck])]).toEqual([late, stuck]);
  });

  it('an alert the receiver has open on its own is not under the storm, there as here; open at another receiver it still counts', () => {
    const docs = [{ alerts: [labelled('b', 'stuck-ticket')], notificationLog: { entries: {}, open: { pager: { b: 1 } } } }];
    expect([...stormsClearIn(docs, 'pager', [stuck])]).toEqual([stuck]);
    expect([...stormsClearIn(docs, 'other-pager', [stuck])]).toEqual([]);
  });
});

describe("what a group's document holds, by its key", () => {
  it.each([
    ['alerts:g', { kind: 'alerts', owner: GLOBAL_PARTITION }],
    ['alerts:g:global', { kind: 'alerts', owner: GLOBAL_PARTITION }],
    ['alerts:g:slo', { kind: 'alerts', owner: SLO_PARTITION }],
    ['alerts:g:p12', { kind: 'alerts', owner: 12 }],
    ['alerts:g:silence:s1', { kind: 'silence' }],
    ['alerts:g:slo-holder', undefined],
    ['alerts:g2:p0', undefined],
    ['alerts:g:px', undefined],
  ] as const)('%s', (key, expected) => {
    expect(documentOf('alerts:g', key)).toEqual(expected);
  });
});
