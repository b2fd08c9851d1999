import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from '../config/load.ts';
import { onTerminate } from '../base/shutdown.ts';
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
import * as control from './control-client.ts';

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
        // A command answers at once: no waiting for a server that is not there (seamwatch run does).
        await store.start(0);
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
        // A command answers at once: no waiting for a server that is not there (seamwatch run does).
        await store.start(0);
        exitCode = await runScorecard(config, store, options, createLogger(config.log.level), (s) => process.stdout.write(`${s}\n`), (s) => process.stderr.write(`${s}\n`));
      } catch (error) {
        if (!(error instanceof WeekError)) throw error;
        process.stderr.write(`--week: ${error.message}\n`);
        exitCode = 2;
      } finally {
        await store.shutdown();
      }
    });

  // The operator's controls: clients of a running instance's control API.
  const target = (options: { url: string; tokenEnv: string }): control.ControlTarget => ({ url: options.url, tokenEnv: options.tokenEnv });
  const io: control.ControlIo = { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`), env: process.env };
  const withTarget = (command: Command) =>
    command
      .option('--url <url>', 'the running seamwatch (its http: listener)', process.env['SEAMWATCH_URL'] ?? 'http://127.0.0.1:9470')
      .option('--token-env <name>', 'the environment variable holding the API token', 'SEAMWATCH_API_TOKEN');

  withTarget(program.command('pause').description('pause paging for a team or a workflow (a kill switch for noise): alerts are still recorded, notifications held'))
    .option('--team <team>', 'the owning team')
    .option('--workflow <workflow>', 'the workflow')
    .requiredOption('--reason <text>', 'why: the incident, a ticket')
    .option('--for <duration>', 'ends by itself after this long (e.g. 2h)')
    .option('--until <time>', 'ends by itself at this time (RFC 3339)')
    .action(async (options: { team?: string; workflow?: string; reason: string; for?: string; until?: string; url: string; tokenEnv: string }) => {
      exitCode = await control.pause(target(options), io, options);
    });

  withTarget(program.command('resume').description('resume paging for a team or a workflow'))
    .option('--team <team>', 'the owning team')
    .option('--workflow <workflow>', 'the workflow')
    .action(async (options: { team?: string; workflow?: string; url: string; tokenEnv: string }) => {
      exitCode = await control.resume(target(options), io, options);
    });

  withTarget(program.command('pauses').description('list where paging is paused'))
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean; url: string; tokenEnv: string }) => {
      exitCode = await control.listPauses(target(options), io, options.json === true);
    });

  withTarget(program.command('audit').description('list control actions: who (the token\'s name), what, when'))
    .option('--since <since>', 'a duration back from now or an RFC 3339 time', '7d')
    .option('--limit <n>', 'at most this many rows', '100')
    .option('--json', 'print JSON')
    .action(async (options: { since: string; limit: string; json?: boolean; url: string; tokenEnv: string }) => {
      exitCode = await control.listAudit(target(options), io, options);
    });

  const dlq = program.command('dlq').description('dead letters');
  withTarget(dlq.command('replay').description('re-feed the dead letters of a topic through today\'s config: those that now decode go back on the topic (idempotent)'))
    .requiredOption('--topic <topic>', 'the source topic the letters came from')
    .requiredOption('--since <since>', 'dead-lettered since: a duration back from now (24h) or an RFC 3339 time')
    .option('--limit <n>', 'at most this many letters', '100000')
    .option('--dry-run', 'only count what now decodes; put nothing back')
    .option('--json', 'print the report as JSON')
    .action(async (options: { topic: string; since: string; limit: string; dryRun?: boolean; json?: boolean; url: string; tokenEnv: string }) => {
      exitCode = await control.streamed(
        target(options),
        io,
        '/api/v1/dlq/replay',
        { topic: options.topic, since: options.since, limit: Number(options.limit), dryRun: options.dryRun === true },
        (p: { read: number; nowDecode: number; failing: number }) => `read ${p.read}: ${p.nowDecode} now decode, ${p.failing} still fail`,
        control.replayReportLines,
        options.json === true,
      );
    });

  withTarget(program.command('backfill').description('re-evaluate SLO verdicts and detectors over a past range with today\'s config, from the store; nothing is paged'))
    .requiredOption('--from <time>', 'RFC 3339')
    .requiredOption('--to <time>', 'RFC 3339, in the past')
    .option('--max-events <n>', 'refuse a range touching more stored events than this', '2000000')
    .option('--dry-run', 'judge and report; write nothing')
    .option('--json', 'print the report as JSON')
    .action(async (options: { from: string; to: string; maxEvents: string; dryRun?: boolean; json?: boolean; url: string; tokenEnv: string }) => {
      exitCode = await control.streamed(
        target(options),
        io,
        '/api/v1/backfill',
        { from: options.from, to: options.to, maxEvents: Number(options.maxEvents), dryRun: options.dryRun === true },
        (p: { phase: string; events?: number; runs?: number; verdicts?: number }) => (p.phase === 'read' ? `read ${p.events} stored events` : p.phase === 'stitched' ? `stitched ${p.runs} runs, ${p.verdicts} SLO verdicts` : 'written'),
        control.backfillReportLines,
        options.json === true,
      );
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
  main(process.argv).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`seamwatch: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
