import { describe, expect, it } from 'vitest';
import { kafkaSuite } from '../support/suite.ts';
import type { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { buildScenario, produceAll } from '../support/scenario.ts';
import { committedCount, groupLag, waitFor } from '../support/services.ts';
import type { SeamwatchProcess } from '../support/child.ts';
import { processHarness } from '../support/processes.ts';
import { expectRunsExactly } from '../support/runs.ts';

describe('seamwatch processes in a consumer group', () => {
  const suite = kafkaSuite();
  const { cleanups } = suite;

  async function setUp(prefix: string) {
    const harness = await processHarness(suite.admin, prefix, { partitions: 6 });
    cleanups.push(harness.cleanup);
    return harness;
  }

  it('drains on SIGTERM: everything it read is stored and committed, and it exits 0', async () => {
    const { id, topics, ch, groupId, start, all } = await setUp('term');
    const scenario = buildScenario(topics, 2_000, 300, 't', 6);
    await produceAll(suite.producer, scenario.messages);
    const p = await start();
    await waitFor('part of the stream', async () => (await committedCount(suite.admin, groupId, all)) > 0, 30_000, 20);
    await p.stop();
    expect(p.child.exitCode).toBe(0);
    // What it committed, it stored: the events table holds at least every committed message's event.
    const committed = await committedCount(suite.admin, groupId, all);
    const [stored] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM ${id}.events FINAL`);
    const [dead] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM ${id}.dead_letters FINAL`);
    const accounted = Number(stored!.n) + Number(dead!.n) + scenario.redeliveries;
    // Seen once under heavy load and not reproduced since: if it comes back, say what the process said.
    if (accounted < committed) throw new Error(`committed ${committed} messages but only ${accounted} are accounted for; the process said:\n${p.output.slice(-6_000)}`);
    await start();
    await waitFor('the rest after a restart', async () => (await groupLag(suite.admin, groupId, all)) === 0, 90_000);
    await expectRunsExactly(ch, id, scenario);
  });

  it('shares the work between two instances through a rebalance without losing or double-counting a run', async () => {
    const { id, topics, ch, groupId, start, all } = await setUp('pair');
    const scenario = buildScenario(topics, 6_000, 1_000, 'r', 6);
    const first = await start();
    const producing = produceAll(suite.producer, scenario.messages, 500, 150);
    await waitFor('the first instance to make progress', async () => (await committedCount(suite.admin, groupId, all)) > 2_000, 60_000, 50);
    const second = await start();
    await producing;
    await waitFor('the group to catch up', async () => (await groupLag(suite.admin, groupId, all)) === 0, 120_000);
    await expectRunsExactly(ch, id, scenario);
    // Both took part: the second was given partitions and rebuilt their open runs from the store.
    const assignments = (p: SeamwatchProcess) =>
      p.output.split('\n').filter((l) => l.includes('"msg":"partitions assigned"')).map((l) => JSON.parse(l).assignment as Record<string, number[]>);
    const lastOf = (p: SeamwatchProcess) => Object.values(assignments(p).at(-1) ?? {}).flat().length;
    expect(lastOf(first)).toBeGreaterThan(0);
    expect(lastOf(second)).toBeGreaterThan(0);
    expect(lastOf(first) + lastOf(second)).toBe(6 * 3);
    expect(second.output).toContain('"msg":"recovered open runs from the store"');
    await second.stop();
    await first.stop();
  });
});
