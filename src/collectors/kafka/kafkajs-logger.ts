import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from 'pino';

/** Routes kafkajs's own logs into ours, at matching levels. */
export function kafkajsLogCreator(logger: Logger): logCreator {
  const child = logger.child({ component: 'kafkajs' });
  return () => ({ level, log }) => {
    const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
    if (level === logLevel.ERROR) child.error(fields, message);
    else if (level === logLevel.WARN) child.warn(fields, message);
    else if (level === logLevel.INFO) child.debug(fields, message);
    else child.trace(fields, message);
  };
}

export function kafkajsLevel(level: string): logLevel {
  if (level === 'debug' || level === 'trace') return logLevel.INFO;
  if (level === 'silent') return logLevel.NOTHING;
  return logLevel.WARN;
}
