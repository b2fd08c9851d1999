import { z } from 'zod';
import { durationSchema } from '../domain/duration.ts';

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier');

/** Where ClickHouse-in-the-process keeps its data: one directory, owned by one process. */
export const DEFAULT_EMBEDDED_PATH = '.seamwatch/clickhouse';

/**
 * The `store:` section. Two engines behind one store: `embedded` (ClickHouse inside the
 * process, through chdb) and `clickhouse` (a server). Without `kind`, a `clickhouse.url`
 * (from the file or SEAMWATCH_CLICKHOUSE_URL) means the server, and nothing means embedded.
 */
export const storeSchema = z
  .object({
    kind: z.enum(['embedded', 'clickhouse']).optional(),
    embedded: z
      .object({
        path: z.string().min(1, 'must not be empty').default(DEFAULT_EMBEDDED_PATH),
        database: identifier.default('seamwatch'),
      })
      .strict()
      .default({ path: DEFAULT_EMBEDDED_PATH, database: 'seamwatch' }),
    clickhouse: z
      .object({
        // A bare host:port parses as a URL with scheme "host:"; only HTTP reaches ClickHouse.
        url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
        database: identifier.default('seamwatch'),
        username: z.string().default('default'),
        password: z.string().default(''),
        requestTimeout: durationSchema().default(30_000),
        // A cluster in the servers' remote_servers: tables are created ON CLUSTER as replicated
        // local tables with Distributed tables over them (src/store/clickhouse/cluster-ddl.ts).
        cluster: identifier.optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((store, ctx) => {
    if (store.kind === 'clickhouse' && store.clickhouse?.url === undefined) {
      ctx.addIssue({ code: 'custom', path: ['clickhouse', 'url'], message: 'required when kind is "clickhouse" (or set SEAMWATCH_CLICKHOUSE_URL)' });
    }
  })
  .transform((store): StoreConfig => {
    const kind = store.kind ?? (store.clickhouse?.url === undefined ? 'embedded' : 'clickhouse');
    if (kind === 'embedded') return { kind, embedded: store.embedded };
    const { url, ...rest } = store.clickhouse!;
    return { kind, clickhouse: { ...rest, url: url! } };
  });

export interface ServerStoreConfig {
  url: string;
  database: string;
  username: string;
  password: string;
  requestTimeout: number;
  /** The cluster (remote_servers) to create tables on and read through; absent: one server. */
  cluster?: string | undefined;
}

export interface EmbeddedStoreConfig {
  path: string;
  database: string;
}

export type StoreConfig = { kind: 'embedded'; embedded: EmbeddedStoreConfig } | { kind: 'clickhouse'; clickhouse: ServerStoreConfig };
