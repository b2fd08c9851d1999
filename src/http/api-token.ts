import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/**
 * The API's bearer token as express middleware: what silence mutations need, and every read
 * when `api.protectReads` is on. Compared in constant time on digests, never logged.
 * Without a token configured, guarded routes answer 503 and say which variable to set.
 */
export function bearerTokenGuard(token: string | undefined, tokenEnv: string, what: string) {
  const expected = token ? digest(token) : undefined;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!expected) {
      res.status(503).json({ error: `${what}: set ${tokenEnv}` });
      return;
    }
    const match = /^Bearer +(\S+) *$/i.exec(req.get('authorization') ?? '');
    // Hashing first gives equal lengths, so timingSafeEqual neither throws nor leaks the length.
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
      res.status(401).set('WWW-Authenticate', 'Bearer realm="seamwatch"').json({ error: match ? 'invalid bearer token' : 'authorization required: Authorization: Bearer <token>' });
      return;
    }
    next();
  };
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
