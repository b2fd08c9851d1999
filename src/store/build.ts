import type { Logger } from 'pino';
import { ClickHouseStore } from './clickhouse/clickhouse-store.ts';
import type { StoreConfig } from './config.ts';

/** The store the `store:` section asks for: one ClickHouseStore, on a server or embedded. */
export function storeFromConfig(config: StoreConfig, logger: Logger): ClickHouseStore {
  if (config.kind === 'embedded') {
    return new ClickHouseStore({ database: config.embedded.database, embeddedPath: config.embedded.path, logger });
  }
  return new ClickHouseStore({ ...config.clickhouse, logger });
}
