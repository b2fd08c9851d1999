import { describe, expect, it } from 'vitest';
import { SilenceRegistry } from '../../src/alerts/silences/silence-store.ts';

const H = 3_600_000;
const DAY = 24 * H;
const T = Date.UTC(2026, 10, 30, 9);
const input = (comment: string) => ({ matchers: 'team="billing"', endsAt: T + 2 * H, createdBy: 'ana@example.com', comment });

/** Two instances of one consumer group, each with its own registry, as the shared document joins them. */
function pair() {
  let n = 0;
  const a = new SilenceRegistry({ newId: () => `a${++n}` });
  const b = new SilenceRegistry({ newId: () => `b${++n}` });
  return { a, b };
}

describe('silences made at one instance reach the others (SilenceRegistry.merge)', () => {
  it('takes in a silence it did not have, and says so; the same list again changes nothing', () => {
    const { a, b } = pair();
    a.create(input('deploy'), T);
    expect(b.merge(a.list(), T + 1_000)).toBe(true);
    expect(b.list().map((s) => [s.id, s.comment])).toEqual([['a1', 'deploy']]);
    expect(b.merge(a.list(), T + 2_000)).toBe(false);
  });

  it('keeps the newer version of a silence by updatedAt: an expiry made elsewhere ends it here, an older copy does not bring it back', () => {
    const { a, b } = pair();
    a.create(input('deploy'), T);
    b.merge(a.list(), T + 1_000);
    const stale = a.list();
    expect(b.expire('a1', T + 10_000).ok).toBe(true);
    // A takes the expiry in; the older copy it had loses.
    expect(a.merge(b.list(), T + 11_000)).toBe(true);
    expect(a.get('a1')!.endsAt).toBe(T + 10_000);
    // B is handed the older copy (a save that raced the expiry): it keeps its expiry.
    expect(b.merge(stale, T + 12_000)).toBe(false);
    expect(b.get('a1')!.endsAt).toBe(T + 10_000);
  });

  it('keeps both sides of silences made at both instances', () => {
    const { a, b } = pair();
    a.create(input('billing deploy'), T);
    b.create(input('ticketing deploy'), T);
    a.merge(b.list(), T + 1_000);
    b.merge(a.list(), T + 1_000);
    expect(a.list().map((s) => s.id).sort()).toEqual(['a1', 'b2']);
    expect(b.list().map((s) => s.id).sort()).toEqual(['a1', 'b2']);
  });

  it('does not take back a silence expired longer than the retention', () => {
    const { a, b } = pair();
    a.create(input('old'), T);
    a.expire('a1', T + H);
    expect(b.merge(a.list(), T + H + 6 * DAY)).toBe(false);
    expect(b.list()).toEqual([]);
  });
});
