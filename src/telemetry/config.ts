import { z } from 'zod';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The `log:` section. */
export const logSchema = z.object({ level: z.enum(LOG_LEVELS).default('info') }).strict();
