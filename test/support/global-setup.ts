import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One folder for every embedded ClickHouse data directory of a test run, removed at its end.
 * Test workers are stopped without an exit event, so they cannot clean up after themselves;
 * they inherit this folder's name through the environment (see embeddedPath in services.ts).
 */
export function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'seamwatch-chdb-run-'));
  process.env['SEAMWATCH_TEST_CHDB_ROOT'] = root;
  return () => rmSync(root, { recursive: true, force: true });
}
