import { describe, expect, it } from 'vitest';
import { coPartitionedAssignment } from '../../src/collectors/kafka/co-partitioned-assigner.ts';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const topics = (counts: Record<string, number>) => new Map(Object.entries(counts).map(([topic, n]) => [topic, range(n)]));

/** Which member got each (topic, partition); fails on a partition given twice. */
function owners(assignment: Map<string, Record<string, number[]>>): Map<string, string> {
  const owner = new Map<string, string>();
  for (const [member, byTopic] of assignment) {
    for (const [topic, partitions] of Object.entries(byTopic)) {
      for (const p of partitions) {
        const key = `${topic}/${p}`;
        if (owner.has(key)) throw new Error(`${key} assigned to ${owner.get(key)} and ${member}`);
        owner.set(key, member);
      }
    }
  }
  return owner;
}

describe('coPartitionedAssignment', () => {
  it('one member gets every partition of every topic', () => {
    expect(coPartitionedAssignment(['m-1'], topics({ 'crm.events': 2, 'billing.webhooks': 2 }))).toEqual(
      new Map([['m-1', { 'crm.events': [0, 1], 'billing.webhooks': [0, 1] }]]),
    );
  });

  it('gives the same partition number of every topic to the same member', () => {
    const assignment = coPartitionedAssignment(['b', 'c', 'a'], topics({ crm: 6, billing: 6, ticketing: 6 }));
    expect(assignment).toEqual(
      new Map([
        ['a', { crm: [0, 3], billing: [0, 3], ticketing: [0, 3] }],
        ['b', { crm: [1, 4], billing: [1, 4], ticketing: [1, 4] }],
        ['c', { crm: [2, 5], billing: [2, 5], ticketing: [2, 5] }],
      ]),
    );
  });

  it('sorts members, so every member computes the same plan whatever order they are listed in', () => {
    const partitions = topics({ crm: 5, billing: 5 });
    const plans = [
      ['m-2', 'm-0', 'm-1'],
      ['m-1', 'm-2', 'm-0'],
      ['m-0', 'm-1', 'm-2'],
    ].map((members) => [...coPartitionedAssignment(members, partitions)]);
    expect(plans[0]!.map(([member]) => member)).toEqual(['m-0', 'm-1', 'm-2']);
    expect(plans[1]).toEqual(plans[0]);
    expect(plans[2]).toEqual(plans[0]);
  });

  it('handles topics with different partition counts: a number goes to one member in every topic that has it', () => {
    const assignment = coPartitionedAssignment(['a', 'b'], topics({ crm: 6, billing: 3, ticketing: 4 }));
    expect(assignment).toEqual(
      new Map([
        ['a', { crm: [0, 2, 4], billing: [0, 2], ticketing: [0, 2] }],
        ['b', { crm: [1, 3, 5], billing: [1], ticketing: [1, 3] }],
      ]),
    );
  });

  it('handles partition ids that are not contiguous or not sorted', () => {
    const partitions = new Map([
      ['crm', [7, 2, 4]],
      ['billing', [4, 9]],
    ]);
    expect(coPartitionedAssignment(['a', 'b'], partitions)).toEqual(
      new Map([
        // Numbers in order 2, 4, 7, 9 alternate between a and b.
        ['a', { crm: [2, 7] }],
        ['b', { crm: [4], billing: [4, 9] }],
      ]),
    );
  });

  it('leaves members beyond the number of partitions with nothing', () => {
    expect(coPartitionedAssignment(['a', 'b', 'c'], topics({ crm: 2 }))).toEqual(
      new Map([
        ['a', { crm: [0] }],
        ['b', { crm: [1] }],
        ['c', {}],
      ]),
    );
  });

  it('gives no partitions when there are no topics', () => {
    expect(coPartitionedAssignment(['a', 'b'], new Map())).toEqual(
      new Map([
        ['a', {}],
        ['b', {}],
      ]),
    );
  });

  it.each([
    [1, { crm: 1 }],
    [2, { crm: 12, billing: 12, ticketing: 12 }],
    [3, { crm: 12, billing: 6, ticketing: 1 }],
    [5, { crm: 3, billing: 7, ticketing: 16 }],
    [16, { crm: 10, billing: 10 }],
  ])('with %d members every partition of %j is assigned exactly once, numbers kept together, balanced', (memberCount, counts) => {
    const partitions = topics(counts);
    const members = range(memberCount).map((i) => `consumer-${String(i).padStart(2, '0')}`);
    const assignment = coPartitionedAssignment(members, partitions);
    const owner = owners(assignment);
    const all = [...partitions].flatMap(([topic, ps]) => ps.map((p) => `${topic}/${p}`));
    expect([...owner.keys()].sort()).toEqual(all.sort());
    // The same number in every topic has the same owner.
    const byNumber = new Map<number, Set<string>>();
    for (const [key, member] of owner) {
      const n = Number(key.split('/')[1]);
      byNumber.set(n, (byNumber.get(n) ?? new Set()).add(member));
    }
    for (const set of byNumber.values()) expect(set.size).toBe(1);
    // Partition numbers are spread evenly: members differ by at most one number.
    const numbersPerMember = members.map((m) => new Set(Object.values(assignment.get(m)!).flat()).size);
    expect(Math.max(...numbersPerMember) - Math.min(...numbersPerMember)).toBeLessThanOrEqual(1);
  });
});
