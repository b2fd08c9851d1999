import { ClickHouseStore } from '../src/store/clickhouse/clickhouse-store.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { ClickHouseError } from '@clickhouse/client';
const s = new ClickHouseStore({ url: 'http://127.0.0.1:18123', database: 'zz', username: 'default', password: 'bad', requestTimeout: 5000, logger: silentLogger() });
try { await s.start(1); } catch (e: any) { console.log(e instanceof ClickHouseError, e.constructor.name, e.code, e.type, String(e).slice(0, 300)); }
await s.shutdown();
