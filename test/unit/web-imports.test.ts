import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The web view's client (web/src) talks to seamwatch only through the JSON API: from the
 * server's code it may import types of the ground floor (src/domain) and nothing else, and
 * those only with `import type`, so no server code is ever bundled into the page.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const WEB = join(ROOT, 'web', 'src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : []));
}

const IMPORT = /^\s*(import|export)(\s+type)?\b[^;]*?\bfrom\s+'([^']+)'/gm;

describe('the web view client', () => {
  it('imports nothing of the server but types of src/domain', () => {
    const wrong: string[] = [];
    for (const file of files(WEB)) {
      for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
        const spec = m[3]!;
        if (!spec.startsWith('.')) continue;
        const target = posix.normalize(posix.join(posix.dirname(relative(ROOT, file).split('\\').join('/')), spec));
        if (target.startsWith('web/')) continue;
        if (!target.startsWith('src/domain/') || !m[2]) wrong.push(`${relative(ROOT, file)} imports ${target}${m[2] ? '' : ' (not as a type)'}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
