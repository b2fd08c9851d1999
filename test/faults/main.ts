/**
 * `npm run faults`: every fault against real services, one table, exit 1 if any row lost,
 * doubled or mis-paged anything. The shared Kafka and ClickHouse (deploy/local/services.sh up)
 * carry the faults that leave them alone; a ClickHouse server and a broker of its own
 * (.services/faults/) carry the faults that stop them. `npm run faults -- fuzz pagerduty` runs
 * only those rows.
 */
import { PagerDutyContractServer } from '../support/pagerduty-server.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, requireServices } from '../support/services.ts';
import { DedicatedService } from './dedicated-services.ts';
import type { FaultRow } from './fault-run.ts';
import { brokerRestarted, clickhouseStopped, fuzzed, pagerDutyFaults, sigkill, twoInstances, type FaultContext } from './faults.ts';
import { formatTable, rowProblems } from './table.ts';

const FAULTS = {
  sigkill,
  clickhouse: clickhouseStopped,
  broker: brokerRestarted,
  fuzz: fuzzed,
  pagerduty: pagerDutyFaults,
  rebalance: twoInstances,
} as const;

async function main(): Promise<number> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !(w in FAULTS));
  if (unknown.length > 0) {
    process.stderr.write(`unknown fault ${unknown.join(', ')}; known: ${Object.keys(FAULTS).join(', ')}\n`);
    return 2;
  }
  const names = (wanted.length > 0 ? wanted : Object.keys(FAULTS)) as (keyof typeof FAULTS)[];
  const log = (line: string) => process.stderr.write(`faults: ${line}\n`);
  await requireServices();
  const pagerDuty = new PagerDutyContractServer();
  await pagerDuty.start();
  const ownClickHouse = names.includes('clickhouse') ? new DedicatedService('clickhouse', Number(process.env['SEAMWATCH_FAULTS_CH_PORT'] ?? 28323)) : undefined;
  const ownKafka = names.includes('broker') ? new DedicatedService('kafka', Number(process.env['SEAMWATCH_FAULTS_KAFKA_PORT'] ?? 29392)) : undefined;
  const context: FaultContext = { shared: { brokers: KAFKA_BROKERS, clickhouseUrl: CLICKHOUSE_URL }, pagerDuty, log, ...(ownClickHouse ? { ownClickHouse } : {}), ...(ownKafka ? { ownKafka } : {}) };
  const started = Date.now();
  const rows: FaultRow[] = [];
  try {
    if (ownClickHouse || ownKafka) log('starting the fault table\'s own ClickHouse / Kafka (.services/faults)…');
    await Promise.all([ownClickHouse?.start(), ownKafka?.start()]);
    for (const name of names) rows.push(await FAULTS[name](context, 'full'));
  } finally {
    await Promise.allSettled([ownClickHouse?.stop(), ownKafka?.stop()]);
    await pagerDuty.close();
  }
  process.stdout.write(`${formatTable(rows)}\n\n${rows.length} faults in ${Math.round((Date.now() - started) / 1000)} s\n`);
  return rows.some((r) => rowProblems(r).length > 0) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`faults: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
