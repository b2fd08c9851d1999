import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS } from '../../src/store/clickhouse/migrations.ts';
import { clusterSchemaScript } from '../../src/store/clickhouse/cluster-ddl.ts';

/** `npm run cluster-ddl`: writes deploy/clickhouse/schema.sql, the cluster DDL for database and cluster "seamwatch". */
writeFileSync(join(import.meta.dirname, 'schema.sql'), clusterSchemaScript(MIGRATIONS, 'seamwatch', 'seamwatch'));
console.log('wrote deploy/clickhouse/schema.sql');
