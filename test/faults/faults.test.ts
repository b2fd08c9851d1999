/**
 * Part of the fault table (`npm run faults`), at a smaller size, inside the test suite: the same
 * fault code, on the shared Kafka and ClickHouse server. The faults that stop a service (they
 * need a broker and a server of their own, and minutes) run only in the command.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PagerDutyContractServer } from '../support/pagerduty-server.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, requireServices } from '../support/services.ts';
import { fuzzed, pagerDutyFaults, sigkill, twoInstances, type FaultContext } from './faults.ts';
import { formatTable, rowProblems } from './table.ts';

describe('the fault table, in part: nothing lost, nothing doubled, every problem paged once', () => {
  const pagerDuty = new PagerDutyContractServer();
  let context: FaultContext;

  beforeAll(async () => {
    await requireServices();
    await pagerDuty.start();
    context = { shared: { brokers: KAFKA_BROKERS, clickhouseUrl: CLICKHOUSE_URL }, pagerDuty, log: () => undefined };
  });

  afterAll(async () => {
    await pagerDuty.close();
  });

  it.each([
    ['SIGKILL mid-stream, then a restart', sigkill],
    ['fuzzed messages among valid ones', fuzzed],
    ['PagerDuty slow, 429, 500, timing out, then a 400', pagerDutyFaults],
    ['two instances, partitions moving', twoInstances],
  ])('%s', async (_name, fault) => {
    const row = await fault(context, 'small');
    // The whole row on failure, as the command prints it.
    expect(rowProblems(row), formatTable([row])).toEqual([]);
    expect(row.stored).toBe(row.eventsIn);
    expect([row.doubleCounted, row.doublePages]).toEqual([0, 0]);
    expect(row.pagesSent).toBe(row.pagesExpected);
  }, 600_000);
});
