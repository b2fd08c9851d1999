import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from '../config/load.ts';
import { onTerminate } from '../lifecycle/shutdown.ts';
import { createLogger } from '../telemetry/logger.ts';
import { Seamwatch } from '../app.ts';

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
      await new Promise(() => undefined);
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

  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
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
