import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** JSON logs on stdout; secrets are redacted by key wherever they appear. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'seamwatch' },
    redact: { paths: ['password', '*.password', '*.*.password', 'routingKey', '*.routingKey', 'token', '*.token'], censor: '[redacted]' },
  });
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
