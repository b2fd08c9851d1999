import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Builds the web view into web/dist (ignored by git): one script and one stylesheet, with
 * preact and uPlot inside, so the page works offline and loads nothing from elsewhere.
 * `npm run build:web`; npm start and npm test run it first; the browser tests call it too.
 */
export async function buildWebView(out = join(dirname(fileURLToPath(import.meta.url)), 'dist')): Promise<{ out: string; bytes: Record<string, number> }> {
  const here = dirname(fileURLToPath(import.meta.url));
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'assets'), { recursive: true });
  const result = await build({
    entryPoints: { app: join(here, 'src', 'main.tsx') },
    outdir: join(out, 'assets'),
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(here, 'tsconfig.json'),
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  copyFileSync(join(here, 'index.html'), join(out, 'index.html'));
  const bytes = Object.fromEntries(Object.entries(result.metafile.outputs).map(([file, o]) => [file.split('/').pop()!, o.bytes]));
  return { out, bytes };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { out, bytes } = await buildWebView();
  console.log(`web view built in ${out}: ${Object.entries(bytes).map(([f, b]) => `${f} ${(b / 1024).toFixed(1)} kB`).join(', ')}`);
}
