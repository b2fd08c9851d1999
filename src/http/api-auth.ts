import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { NamedToken } from './config.ts';

/**
 * Bearer-token checks for the API's mutations. Each token is compared in constant time (its
 * hash, so lengths are equal) and never logged; the name of the token that matched is left in
 * `res.locals.actor` for the audit.
 */
export function bearerAuth(tokens: readonly NamedToken[], readOnlyMessage: string) {
  const digests = tokens.map((t) => ({ name: t.name, digest: digest(t.value) }));
  return (req: Request, res: Response, next: NextFunction): void => {
    if (digests.length === 0) {
      res.status(503).json({ error: readOnlyMessage });
      return;
    }
    const match = /^Bearer +(\S+) *$/i.exec(req.get('authorization') ?? '');
    const offered = match ? digest(match[1]!) : undefined;
    // Every token is compared, so the time taken does not say which one came close.
    let actor: string | undefined;
    for (const t of digests) if (offered && timingSafeEqual(offered, t.digest) && actor === undefined) actor = t.name;
    if (actor === undefined) {
      res.status(401).set('WWW-Authenticate', 'Bearer realm="seamwatch"').json({ error: match ? 'invalid bearer token' : 'authorization required: Authorization: Bearer <token>' });
      return;
    }
    res.locals['actor'] = actor;
    next();
  };
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
