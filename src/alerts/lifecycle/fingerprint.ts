import { createHash } from 'node:crypto';

/**
 * A stable identity for one problem: the same detector, workflow and key always give the same
 * fingerprint, across restarts and instances. It is also the PagerDuty dedup_key, so two
 * instances can never page twice for one problem.
 */
export function fingerprint(detector: string, workflow: string, key: string): string {
  return createHash('sha256').update(`${detector}\u0000${workflow}\u0000${key}`).digest('hex').slice(0, 32);
}
