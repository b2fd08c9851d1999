import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseDuration } from '../../src/domain/duration.ts';
import { decideDedup, type NotificationLogEntry } from '../../src/alerts/notify/dedup.ts';
import { EMPTY_NOTIFICATION_LOG, InMemoryNotificationLog, pruneLog, recordSent } from '../../src/alerts/notify/notification-log.ts';

const at = (clock: string) => Date.parse(`2026-03-02T${clock}Z`);

interface Case {
  name: string;
  entry: 'none' | { firing: string[]; resolved: string[]; sentAt: string };
  firing: string[];
  owed?: string[];
  expect: string;
}

describe('decideDedup', () => {
  const fixture = parse(readFileSync(new URL('../fixtures/alerts/dedup.yaml', import.meta.url), 'utf8')) as { repeat_interval: string; now: string; cases: Case[] };

  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const entry: NotificationLogEntry | undefined = c.entry === 'none' ? undefined : { ...c.entry, sentAt: at(c.entry.sentAt) };
    const decision = decideDedup({
      entry,
      firing: new Set(c.firing),
      owed: new Set(c.owed ?? []),
      repeatIntervalMs: parseDuration(fixture.repeat_interval)!,
      now: at(fixture.now),
    });
    expect(`${decision.send ? 'send' : 'hold'} ${decision.reason}`).toBe(c.expect);
  });
});

describe('the notification log', () => {
  it('records the group entry and keeps each receiver\'s open alerts until their resolve is delivered', () => {
    let state = recordSent(EMPTY_NOTIFICATION_LOG, 'billing-pager', 'g1', { firing: ['B', 'A'], resolved: [] }, at('10:00:30'));
    state = recordSent(state, 'billing-pager', 'g2', { firing: ['C'], resolved: [] }, at('10:01:00'));
    state = recordSent(state, 'audit', 'g1', { firing: ['A'], resolved: [] }, at('10:01:00'));
    state = recordSent(state, 'billing-pager', 'g1', { firing: ['B'], resolved: ['A'] }, at('10:10:30'));
    expect(state).toEqual({
      entries: {
        'billing-pager\u0000g1': { firing: ['B'], resolved: ['A'], sentAt: at('10:10:30') },
        'billing-pager\u0000g2': { firing: ['C'], resolved: [], sentAt: at('10:01:00') },
        'audit\u0000g1': { firing: ['A'], resolved: [], sentAt: at('10:01:00') },
      },
      // B keeps the time it was first triggered; A is resolved at billing-pager, still open at audit.
      open: { 'billing-pager': { B: at('10:00:30'), C: at('10:01:00') }, audit: { A: at('10:01:00') } },
    });
  });

  it('prunes old group entries but never an open alert, which is owed a resolve', () => {
    let state = recordSent(EMPTY_NOTIFICATION_LOG, 'p', 'old', { firing: ['A'], resolved: [] }, at('00:00:00'));
    state = recordSent(state, 'p', 'new', { firing: ['B'], resolved: [] }, at('10:00:00'));
    const pruned = pruneLog(state, at('12:00:00'), 5 * 3_600_000);
    expect(Object.keys(pruned.entries)).toEqual(['p\u0000new']);
    expect(pruned.open).toEqual({ p: { A: at('00:00:00'), B: at('10:00:00') } });
  });

  it('answers the dedup stage from its state', () => {
    const log = new InMemoryNotificationLog();
    expect(log.entry('p', 'g')).toBeUndefined();
    log.record('p', 'g', { firing: ['A'], resolved: [] }, at('10:00:00'));
    expect(log.entry('p', 'g')).toEqual({ firing: ['A'], resolved: [], sentAt: at('10:00:00') });
    expect([log.isOpen('p', 'A'), log.isOpen('p', 'B'), log.isOpen('q', 'A')]).toEqual([true, false, false]);
    // A reloaded state answers the same: a restart forgets nothing.
    const reloaded = new InMemoryNotificationLog(JSON.parse(JSON.stringify(log.state)));
    expect([reloaded.isOpen('p', 'A'), reloaded.entry('p', 'g')]).toEqual([true, log.entry('p', 'g')]);
  });
});
