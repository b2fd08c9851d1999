import { describe, expect, it } from 'vitest';
import { chunkBySize } from '../../src/collectors/kafka/dead-letter-producer.ts';

const message = (bytes: number) => ({ key: 'k', value: Buffer.alloc(bytes) });

describe('dead letters are produced in requests the broker accepts', () => {
  it('a flush of large poison messages is split so no request passes the size limit', () => {
    const chunks = chunkBySize(Array.from({ length: 30 }, () => message(100_000)), 512 * 1024);
    expect(chunks.map((c) => c.length)).toEqual([5, 5, 5, 5, 5, 5]);
  });

  it('small messages stay in one request, in order', () => {
    const messages = Array.from({ length: 1_000 }, (_, i) => ({ key: String(i), value: 'x' }));
    expect(chunkBySize(messages, 512 * 1024)).toEqual([messages]);
  });

  it('a message larger than the limit goes alone rather than never', () => {
    const chunks = chunkBySize([message(10), message(600_000), message(10)], 512 * 1024);
    expect(chunks.map((c) => c.map((m) => m.value.length))).toEqual([[10], [600_000], [10]]);
  });
});
