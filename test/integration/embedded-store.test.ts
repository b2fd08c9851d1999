import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { writeConfig } from '../support/child.ts';
import { OWN_STORE_ENV, embeddedPath, store, storeYaml, unique } from '../support/services.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('the embedded store owns its data directory', () => {
  const database = unique('emb');
  let held: ClickHouseStore;

  beforeAll(async () => {
    held = store(database, 'embedded');
    await held.start();
  });

  afterAll(async () => {
    await held.command(`DROP DATABASE IF EXISTS ${database}`);
    await held.shutdown();
  });

  it('a second process on the same directory is refused with a message saying what to do, not a stack trace', () => {
    const config = writeConfig(`
sources: [{ name: crm, topic: unused.crm }]
workflows: [{ name: w, owner: o, trigger: { source: crm, type: a }, steps: [{ name: s, source: crm, type: b }], deadline: 5m }]
slos: [{ name: s, workflow: w, objective: 99%, window: 30d, indicator: { success-ratio: {} } }]
kafka: { brokers: ["127.0.0.1:1"] }
store: ${storeYaml(database, 'embedded')}
`);
    const run = spawnSync(process.execPath, [join(ROOT, 'src/cli/main.ts'), 'slo', 'status', '--config', config], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...OWN_STORE_ENV } });
    expect(run.status).toBe(1);
    const ours = run.stderr.split('\n').filter((l) => l.startsWith('seamwatch:'));
    expect(ours).toEqual([
      expect.stringContaining(`seamwatch: cannot open the embedded ClickHouse data directory ${embeddedPath()} (store.embedded.path): is another process using it?`),
    ]);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('keeps what it stored across a close and a reopen, as a restart does', async () => {
    await held.saveDocuments([{ key: 'k', doc: 'kept' }]);
    await held.shutdown();
    held = store(database, 'embedded');
    await held.start();
    expect(await held.loadDocuments(['k'])).toEqual(new Map([['k', 'kept']]));
  });
});
