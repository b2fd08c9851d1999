import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from '../config/load.ts';
import { onTerminate } from '../base/shutdown.ts';
import { quietKnownWarnings } from '../base/warnings.ts';
import { createLogger } from '../telemetry/logger.ts';
import { Seamwatch } from '../app.ts';
import { storeFromConfig } from '../store/build.ts';
import { EmbeddedStoreError } from '../store/clickhouse/embedded-store-error.ts';
import { formatStatusTable, sloStatuses } from './slo-status.ts';
import { runDemo } from './demo.ts';
import { parseDuration } from '../domain/duration.ts';
import { statusView } from '../slo/view.ts';
import { runScorecard } from './scorecard.ts';
import { WeekError } from '../scorecard/week.ts';

const DEFAULT_CONFIG = 'config/seamwatch.yaml';

/** The command line. Only this file exits the process. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name('seamwatch')
    .description('Watches the seams between business systems: stitches workflow events into runs and measures business SLOs.')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  let exitCode = 0;

  program
    .command('run')
    .description('consume events from Kafka, stitch workflow runs and store them (the main job)')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .action(async (options: { config: string }) => {
      const config = await loadConfig(options.config);
      const logger = createLogger(config.log.level);
      const app = new Seamwatch({ config, logger });
      onTerminate(() => app.shutdown(), 30_000, logger);
      try {
        await app.start();
      } catch (error) {
        logger.fatal({ err: error }, 'could not start');
        await app.shutdown().catch(() => undefined);
        exitCode = 1;
        return;
      }
      logger.info({ http: `http://${config.http.host}:${app.http.port}` }, 'seamwatch running');
      const failure = await app.failed;
      logger.fatal({ err: failure }, 'seamwatch cannot go on: stopping');
      await app.shutdown().catch(() => undefined);
      exitCode = 1;
    });

  program
    .command('validate')
    .description('check a configuration file; prints every problem with its key path')
    .argument('[file]', 'configuration file', DEFAULT_CONFIG)
    .action(async (file: string) => {
      const config = await loadConfig(file);
      const steps = config.workflows.reduce((n, w) => n + w.steps.length, 0);
      process.stdout.write(`${file}: ok — ${config.sources.length} sources, ${config.workflows.length} workflows, ${steps} steps\n`);
    });

  program
    .command('demo')
    .description('play a small live business (upgrades, webhooks, tickets; some late, failed, redelivered) into the configured topics')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('--rate <n>', 'plan upgrades per second', '20')
    .option('--duration <d>', 'how long to play (e.g. 10m)', '15m')
    .option('--late <share>', 'share of upgrades that sync after 5 minutes', '0.02')
    .option('--http', 'post to the HTTP intake (sources with transport: http) instead of producing to Kafka')
    .action(async (options: { config: string; rate: string; duration: string; late: string; http?: boolean }) => {
      const config = await loadConfig(options.config);
      const rate = Number(options.rate);
      const duration = parseDuration(options.duration);
      const late = Number(options.late);
      const problems = [
        ...(Number.isFinite(rate) && rate > 0 && rate <= 10_000 ? [] : [`--rate: "${options.rate}" must be a number above 0 and at most 10000`]),
        ...(duration !== undefined && duration > 0 ? [] : [`--duration: "${options.duration}" is not a duration (e.g. 10m)`]),
        ...(Number.isFinite(late) && late >= 0 && late <= 0.99 ? [] : [`--late: "${options.late}" is not a share between 0 and 0.99`]),
      ];
      if (problems.length > 0) {
        process.stderr.write(`${problems.join('\n')}\n`);
        exitCode = 2;
        return;
      }
      const abort = new AbortController();
      process.once('SIGINT', () => abort.abort());
      process.once('SIGTERM', () => abort.abort());
      try {
        await runDemo(config, { ratePerSecond: rate, durationMs: duration!, lateShare: late, ...(options.http ? { http: true } : {}), print: (line) => process.stdout.write(`${line}\n`) }, abort.signal);
      } catch (error) {
        process.stderr.write(`seamwatch demo: ${error instanceof Error ? error.message : String(error)}\n`);
        exitCode = 1;
      }
    });

  const slo = program.command('slo').description('business SLOs');
  slo
    .command('status')
    .description('print every SLO: SLI, error budget, burn rates and alerts, from the store')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('--at <time>', 'evaluate at this time (RFC 3339) instead of now')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { config: string; at?: string; json?: boolean }) => {
      const config = await loadConfig(options.config);
      const at = options.at === undefined ? Date.now() : Date.parse(options.at);
      if (!Number.isFinite(at)) {
        process.stderr.write(`--at: not a time: "${options.at}" (use e.g. 2026-11-25T10:00:00Z)\n`);
        exitCode = 2;
        return;
      }
      if (config.slos.length === 0) {
        process.stdout.write(`${options.config}: no SLOs configured\n`);
        return;
      }
      const logger = createLogger('silent');
      const store = storeFromConfig(config.store, logger);
      try {
        await store.start();
        const statuses = await sloStatuses(config, store, at);
        if (options.json) process.stdout.write(`${JSON.stringify(statuses.map(statusView), null, 2)}\n`);
        else process.stdout.write(`SLOs at ${new Date(Math.floor(at / 60_000) * 60_000).toISOString()}\n\n${formatStatusTable(statuses)}\n`);
      } catch (error) {
        process.stderr.write(`seamwatch: cannot read SLO counts from ${store.location}: ${error instanceof Error ? error.message : String(error)}\n`);
        exitCode = 1;
      } finally {
        await store.shutdown();
      }
    });

  program
    .command('scorecard')
    .description('the weekly reliability scorecard of each owning team: print the text, write the HTML page, or send the mail')
    .requiredOption('--week <week>', 'ISO week, e.g. 2026-W47')
    .option('--team <team>', 'one owning team (default: every team)')
    .option('--out <file>', 'write the HTML page (charts inline) to this file')
    .option('--send', 'send it over SMTP to the team\'s recipients (scorecard: in the config), at most once per team and week')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .action(async (options: { week: string; team?: string; out?: string; send?: boolean; config: string }) => {
      const config = await loadConfig(options.config);
      const store = storeFromConfig(config.store, createLogger('silent'));
      try {
        await store.start();
        exitCode = await runScorecard(config, store, options, createLogger(config.log.level), (s) => process.stdout.write(`${s}\n`), (s) => process.stderr.write(`${s}\n`));
      } catch (error) {
        if (!(error instanceof WeekError)) throw error;
        process.stderr.write(`--week: ${error.message}\n`);
        exitCode = 2;
      } finally {
        await store.shutdown();
      }
    });

  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof EmbeddedStoreError) {
      process.stderr.write(`seamwatch: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  return exitCode;
}

if (import.meta.main) {
  quietKnownWarnings();
  main(process.argv).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`seamwatch: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
