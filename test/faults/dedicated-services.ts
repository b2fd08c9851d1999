/**
 * A ClickHouse server and a Kafka broker of the fault table's own, started with the project's
 * scripts (deploy/local/{clickhouse,kafka}.sh) on other ports, with their data under
 * .services/faults/: the faults that stop or restart a service never touch the shared ones
 * that other tests are using.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

export class DedicatedService {
  readonly kind: 'clickhouse' | 'kafka';
  private readonly env: Record<string, string>;
  /** A URL (ClickHouse) or a broker list entry (Kafka). */
  readonly address: string;

  constructor(kind: 'clickhouse' | 'kafka', port: number) {
    this.kind = kind;
    const state = join(ROOT, '.services/faults', kind);
    this.env =
      kind === 'clickhouse'
        ? { SEAMWATCH_CH_STATE: state, SEAMWATCH_CH_HTTP_PORT: String(port), SEAMWATCH_CH_TCP_PORT: String(port + 1) }
        : {
            SEAMWATCH_KAFKA_STATE: state,
            SEAMWATCH_KAFKA_PORT: String(port),
            SEAMWATCH_KAFKA_CONTROLLER_PORT: String(port + 1),
            // The shared broker's jars (fetched once): a checkout without them fetches its own.
            ...(process.env['SEAMWATCH_KAFKA_LIBS'] ? { SEAMWATCH_KAFKA_LIBS: process.env['SEAMWATCH_KAFKA_LIBS'] } : {}),
          };
    this.address = kind === 'clickhouse' ? `http://127.0.0.1:${port}` : `127.0.0.1:${port}`;
  }

  private async script(command: 'start' | 'stop'): Promise<void> {
    await run('bash', [join(ROOT, 'deploy/local', `${this.kind}.sh`), command], { cwd: ROOT, env: { ...process.env, ...this.env }, maxBuffer: 16 * 1024 * 1024 });
  }

  start(): Promise<void> {
    return this.script('start');
  }

  /** A graceful stop (SIGTERM, then SIGKILL after the script's timeout). */
  stop(): Promise<void> {
    return this.script('stop');
  }
}
