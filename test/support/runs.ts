import { expect } from 'vitest';
import type { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import type { Scenario } from './scenario.ts';
import { waitFor } from './services.ts';

/** Each run once, at its newest version. */
export const finalRuns = (db: string) =>
  `SELECT run_id, argMax(state, version) AS state, argMax(deadline_missed, version) AS missed, argMax(event_count, version) AS events
   FROM ${db}.runs GROUP BY run_id`;

export async function runMismatches(ch: ClickHouseStore, db: string, scenario: Scenario) {
  const rows = await ch.rows<{ run_id: string; state: string; missed: number }>(finalRuns(db));
  const actual = new Map(rows.map((r) => [r.run_id, { state: r.state, deadlineMissed: Number(r.missed) === 1 }]));
  const wrong = [...scenario.expectedRuns]
    .filter(([runId, expected]) => JSON.stringify(actual.get(runId)) !== JSON.stringify(expected))
    .map(([runId, expected]) => ({ runId, expected, actual: actual.get(runId) }));
  const unexpected = [...actual.keys()].filter((runId) => !scenario.expectedRuns.has(runId));
  return { wrong, unexpected };
}

/** Waits for every run to reach its expected final verdict; on failure shows the first few wrong. */
export async function expectRunsExactly(ch: ClickHouseStore, db: string, scenario: Scenario, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    'every run with its final verdict',
    async () => {
      const { wrong, unexpected } = await runMismatches(ch, db, scenario);
      return wrong.length === 0 && unexpected.length === 0;
    },
    timeoutMs,
  ).catch(async () => {
    const { wrong, unexpected } = await runMismatches(ch, db, scenario);
    expect({ wrong: wrong.length, first: wrong.slice(0, 5), unexpected: unexpected.slice(0, 5) }).toEqual({ wrong: 0, first: [], unexpected: [] });
  });
  // A flush writes its tables side by side: the runs of the last flush can be readable a moment
  // before its events, so the events are waited for too, then checked for doubles.
  const counts = async () => {
    const [events] = await ch.rows<{ rows: string; distinct: string }>(`SELECT count() AS rows, uniqExact(source, event_id) AS distinct FROM ${db}.events FINAL`);
    return { rows: Number(events!.rows), distinct: Number(events!.distinct) };
  };
  await waitFor('every event stored', async () => (await counts()).distinct >= scenario.distinctEvents, 10_000).catch(() => undefined);
  const events = await counts();
  expect(events.distinct).toBe(scenario.distinctEvents);
  expect(events.rows).toBe(scenario.distinctEvents);
}
