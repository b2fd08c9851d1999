import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/**
 * Gives each member whole partition numbers across every topic: partition 3 of the CRM, billing
 * and ticketing topics all go to the same instance. Producers key events by correlation ID, so
 * one instance sees every event of a workflow run. (kafkajs's round robin would split them.)
 */
export function coPartitionedAssignment(
  memberIds: readonly string[],
  partitionsByTopic: ReadonlyMap<string, readonly number[]>,
): Map<string, Record<string, number[]>> {
  const members = [...memberIds].sort();
  const numbers = [...new Set([...partitionsByTopic.values()].flat())].sort((a, b) => a - b);
  const assignment = new Map<string, Record<string, number[]>>(members.map((m) => [m, {}]));
  numbers.forEach((partition, i) => {
    const member = assignment.get(members[i % members.length]!)!;
    for (const [topic, partitions] of partitionsByTopic) {
      if (!partitions.includes(partition)) continue;
      (member[topic] ??= []).push(partition);
    }
  });
  return assignment;
}

export const CoPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'SeamwatchCoPartitioned',
  version: 1,
  async assign({ members, topics }) {
    const partitions = new Map(topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).map((m) => m.partitionId)]));
    const assignment = coPartitionedAssignment(members.map((m) => m.memberId), partitions);
    return [...assignment].map(([memberId, topicsOf]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: topicsOf, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return {
      name: 'SeamwatchCoPartitioned',
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
    };
  },
});
