import { describe, expect, it } from 'vitest';
import { PagerDutyReceiver } from '../../src/alerts/receivers/pagerduty-receiver.ts';
import type { PagerDutyNotifier } from '../../src/alerts/pagerduty/notifier.ts';
import type { Alert } from '../../src/alerts/types.ts';

const alert = (fingerprint: string, state: Alert['state']): Alert => ({
  fingerprint,
  labels: { alertname: 'duplicate-invoice', team: 'billing-platform', severity: 'critical' },
  annotations: { summary: 'invoiced twice' },
  state,
  startsAt: 1,
  endsAt: state === 'resolved' ? 2 : 0,
  generatorUrl: '',
});

/** Records what would be sent to PagerDuty; the real notifier is tested against the contract server. */
function recordingNotifier(sent: string[], fail: Set<string> = new Set()) {
  return {
    send: async (a: Alert, action: 'trigger' | 'resolve') => {
      sent.push(`${action} ${a.fingerprint}`);
      return fail.has(a.fingerprint)
        ? { status: 'failure' as const, reason: 'gave-up' as const, retryLater: true, dedupKey: a.fingerprint, action, lastError: 'timeout' }
        : { status: 'success' as const, attempts: 1, dedupKey: a.fingerprint, action };
    },
  } as unknown as PagerDutyNotifier;
}

describe('PagerDutyReceiver', () => {
  const notification = (firing: Alert[], resolved: Alert[] = []) => ({ receiver: 'pd', groupKey: 'g', groupLabels: {}, firing, resolved, reason: 'new_alerts' as const, at: 3 });

  it('triggers only the alerts of a group flush that are not already open at this receiver', async () => {
    const sent: string[] = [];
    const open = new Set(['a', 'b']);
    const receiver = new PagerDutyReceiver('pd', recordingNotifier(sent), 'k'.repeat(32), (_r, fp) => open.has(fp));
    const report = await receiver.notify(notification([alert('a', 'firing'), alert('b', 'firing'), alert('c', 'firing')], [alert('d', 'resolved')]));
    expect(sent).toEqual(['trigger c', 'resolve d']);
    expect(report).toEqual({ failed: [], refused: [] });
  });

  it('reports a trigger that may succeed later as failed, so the next flush sends it again', async () => {
    const sent: string[] = [];
    const receiver = new PagerDutyReceiver('pd', recordingNotifier(sent, new Set(['c'])), 'k'.repeat(32), () => false);
    const report = await receiver.notify(notification([alert('c', 'firing')]));
    expect(report.failed.map((f) => f.fingerprint)).toEqual(['c']);
  });
});
