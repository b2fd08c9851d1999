import { z } from 'zod';
import { durationSchema } from '../domain/duration.ts';

/** The `store:` section. */
export const storeSchema = z
  .object({
    kind: z.literal('clickhouse').default('clickhouse'),
    clickhouse: z
      .object({
        // A bare host:port parses as a URL with scheme "host:"; only HTTP reaches ClickHouse.
        url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
        database: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier'),
        username: z.string().default('default'),
        password: z.string().default(''),
        requestTimeout: durationSchema().default(30_000),
      })
      .strict(),
  })
  .strict();

export type StoreConfig = z.output<typeof storeSchema>;
