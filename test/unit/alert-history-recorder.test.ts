import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { AlertHistoryRecorder } from '../../src/alerts/history-recorder.ts';
import type { AlertRecords } from '../../src/domain/alert-records.ts';
import type { AlertChange } from '../../src/alerts/lifecycle/alert-book.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

const change = (fingerprint: string, kind: AlertChange['kind'] = 'firing'): AlertChange => ({
  kind,
  alert: {
    fingerprint,
    labels: { alertname: 'dup-invoice', detector: 'dup-invoice', team: 'billing', severity: 'critical', workflow: 'billing' },
    annotations: { summary: 'two invoices', correlation_id: 'c-1' },
    state: kind === 'resolved' ? 'resolved' : 'firing',
    startsAt: 1_000,
    endsAt: kind === 'resolved' ? 2_000 : 0,
    generatorUrl: '',
  },
});

function recorder(write: (r: AlertRecords) => Promise<void>, capacity = 10) {
  const registry = new Registry();
  const history = new AlertHistoryRecorder({ store: { writeAlertRecords: write }, registry, logger: silentLogger(), detectorKind: (d) => (d === 'dup-invoice' ? 'duplicateEffects' : ''), capacity, now: () => 5_000 });
  const dropped = async () => (await registry.getSingleMetric('seamwatch_alert_history_dropped_total')!.get()).values.reduce((n, v) => n + v.value, 0);
  return { history, dropped };
}

describe('alert history recorder', () => {
  it('writes one row per change and one per alert in a delivered notification, with the detector kind', async () => {
    const written: AlertRecords[] = [];
    const { history } = recorder(async (r) => void written.push(r));
    history.change(change('f1'));
    history.notified('pd', 'g1', { firing: ['f1', 'f2'], resolved: ['f0'] }, 7_000);
    await history.flush();
    expect(written).toHaveLength(1);
    expect(written[0]!.changes).toEqual([
      { fingerprint: 'f1', kind: 'firing', detector: 'dup-invoice', detectorKind: 'duplicateEffects', team: 'billing', severity: 'critical', workflow: 'billing', summary: 'two invoices', correlationId: 'c-1', startsAt: 1_000, endsAt: 0, recordedAt: 5_000 },
    ]);
    expect(written[0]!.notifications.map((n) => [n.fingerprint, n.state, n.sentAt])).toEqual([['f1', 'firing', 7_000], ['f2', 'firing', 7_000], ['f0', 'resolved', 7_000]]);
  });

  it('never waits for a hung store and drops what does not fit in its buffer, counted', async () => {
    const { history, dropped } = recorder(() => new Promise<void>(() => undefined), 3);
    for (let i = 0; i < 5; i++) history.change(change(`f${i}`));
    expect(await dropped()).toBe(2);
    void history.flush();
    // The buffer is free again while the write hangs: alerting goes on recording.
    history.change(change('g'));
    expect(await dropped()).toBe(2);
  });

  it('keeps rows for the next flush when a write fails, within its capacity', async () => {
    let fail = true;
    const written: AlertRecords[] = [];
    const { history, dropped } = recorder(async (r) => {
      if (fail) throw new Error('ClickHouse down');
      written.push(r);
    }, 3);
    history.change(change('a'));
    history.change(change('b'));
    await history.flush();
    history.change(change('c'));
    history.change(change('d'));
    expect(await dropped()).toBe(1);
    fail = false;
    await history.flush();
    expect(written[0]!.changes.map((c) => c.fingerprint)).toEqual(['a', 'b', 'c']);
  });

  it('writes what is left on shutdown, and records nothing after it', async () => {
    const written: AlertRecords[] = [];
    const { history } = recorder(async (r) => void written.push(r));
    history.change(change('a', 'resolved'));
    await history.shutdown();
    await history.shutdown();
    history.change(change('b'));
    await history.flush();
    expect(written.flatMap((w) => w.changes.map((c) => [c.fingerprint, c.kind, c.endsAt]))).toEqual([['a', 'resolved', 2_000]]);
  });
});
