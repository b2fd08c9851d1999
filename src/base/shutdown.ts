import type { Logger } from 'pino';

/** Runs every shutdown step in order, even when one fails, and reports all failures together. */
export async function runAll(steps: { name: string; run: () => Promise<void> }[], logger: Logger): Promise<Error[]> {
  const errors: Error[] = [];
  for (const step of steps) {
    try {
      await step.run();
    } catch (error) {
      logger.error({ err: error, step: step.name }, 'shutdown step failed');
      errors.push(error instanceof Error ? error : new Error(String(error)));
    }
  }
  return errors;
}

/**
 * The one place that handles SIGTERM and SIGINT: the first asks for a graceful stop, with a
 * forced exit when it takes longer than the deadline; a second signal exits at once.
 */
export function onTerminate(stop: () => Promise<void>, deadlineMs: number, logger: Logger): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal, deadlineMs }, 'stopping');
    const force = setTimeout(() => {
      logger.error({ deadlineMs }, 'graceful stop took too long: exiting');
      process.exit(1);
    }, deadlineMs);
    force.unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
