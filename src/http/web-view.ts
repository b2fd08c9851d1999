import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';

/** Where `npm run build:web` (web/build.ts) puts the web view; ignored by git. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** The pages of the web view: the client routes them, the server answers each with the same shell. */
const PAGES = ['/', '/slos', '/slos/:name', '/alerts', '/trace', '/trace/:correlationId', '/runs', '/dead-letters'];

/**
 * Script and styles only from this server, data only from its API: event data the page shows
 * can never load or run anything, even if a rendering bug let markup through.
 */
export const WEB_VIEW_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Serves the built web view: the page shell at each page path, its script and styles under /assets. */
export function addWebView(app: Express, root: string = DEFAULT_WEB_ROOT): void {
  const index = join(root, 'index.html');
  app.use('/assets', express.static(join(root, 'assets'), { index: false, maxAge: 0 }));
  app.get(PAGES, (_req, res) => {
    res.set('Content-Security-Policy', WEB_VIEW_CSP);
    res.set('X-Content-Type-Options', 'nosniff');
    if (!existsSync(index)) {
      res.status(503).type('text/plain').send('The web view is not built: run `npm run build:web` (npm start and npm test do it).\n');
      return;
    }
    res.type('html').send(readFileSync(index));
  });
}
