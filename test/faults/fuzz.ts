import type { Message } from 'kafkajs';
import type { ScenarioTopics } from '../support/scenario.ts';

/** A small seeded generator (mulberry32): the same seed gives the same fuzz, run after run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const T = Date.UTC(2026, 10, 20, 9);

/** A valid CloudEvent body, for the mutations below to break one thing of. */
function validCloudEvent(i: number): Record<string, unknown> {
  return { specversion: '1.0', id: `fz-${i}`, source: 'crm', type: 'subscription.upgraded', time: new Date(T).toISOString(), correlationid: `fz-c-${i}`, data: { plan: 'pro' } };
}

/**
 * Ways to be invalid, each certain to be refused whatever the random parts: a message that
 * passes by chance would be a valid event, not fuzz.
 */
const MUTATIONS: ((i: number, r: () => number) => { topic: keyof ScenarioTopics; value: Buffer | string | null; reason: string })[] = [
  (_i, r) => ({ topic: 'crm', value: Buffer.from(Array.from({ length: 1 + Math.floor(r() * 200) }, () => Math.floor(r() * 256)).map((b) => (b === 0x7b || b === 0x5b ? 0x21 : b))), reason: 'random bytes' }),
  (i, r) => ({ topic: 'crm', value: JSON.stringify(validCloudEvent(i)).slice(0, 1 + Math.floor(r() * 60)), reason: 'truncated JSON' }),
  (i, r) => {
    const e = validCloudEvent(i);
    // Not `time`: CloudEvents make it optional (the Kafka timestamp stands in).
    delete e[['id', 'type', 'source', 'correlationid', 'specversion'][Math.floor(r() * 5)]!];
    return { topic: 'crm', value: JSON.stringify(e), reason: 'missing field' };
  },
  (i, r) => ({ topic: 'crm', value: JSON.stringify({ ...validCloudEvent(i), time: ['yesterday', '', 42, null, '2026-13-45T99:00:00Z'][Math.floor(r() * 5)] }), reason: 'bad time' }),
  (i, r) => ({ topic: 'crm', value: JSON.stringify({ ...validCloudEvent(i), id: [5, null, {}, [], true][Math.floor(r() * 5)] }), reason: 'id of the wrong type' }),
  (i) => ({ topic: 'crm', value: JSON.stringify({ ...validCloudEvent(i), correlationid: 'x'.repeat(i % 10 === 5 ? 100_000 : 300 + (i % 50)) }), reason: 'correlation id too long (some 100 kB)' }),
  (i) => ({ topic: 'crm', value: JSON.stringify({ ...validCloudEvent(i), time: new Date(Date.now() + 400 * 86_400_000).toISOString() }), reason: 'time in the future' }),
  (i) => ({ topic: 'crm', value: JSON.stringify({ ...validCloudEvent(i), source: 'billing' }), reason: 'another source' }),
  (i) => ({ topic: 'crm', value: JSON.stringify({ ...validCloudEvent(i), specversion: '2.0' }), reason: 'unknown specversion' }),
  () => ({ topic: 'crm', value: JSON.stringify([1, 2, 3]), reason: 'JSON array' }),
  () => ({ topic: 'crm', value: '{"a":'.repeat(5_000), reason: 'deep unfinished nesting' }),
  () => ({ topic: 'ticketing', value: null, reason: 'tombstone' }),
  () => ({ topic: 'ticketing', value: '', reason: 'empty' }),
  () => ({ topic: 'ticketing', value: Buffer.from([0xff, 0xfe, 0xfd, 0x00]), reason: 'invalid UTF-8' }),
  (i) => ({ topic: 'billing', value: JSON.stringify({ id: `evt_fz_${i}`, type: 'invoice.updated', created: T, data: {} }), reason: 'mapped: correlation id missing' }),
  (i) => ({ topic: 'billing', value: JSON.stringify({ id: `evt_fz_${i}`, type: 'invoice.updated', created: 'noon', data: { object: { metadata: { correlation_id: 'c' } } } }), reason: 'mapped: bad time' }),
  () => ({ topic: 'billing', value: 'null', reason: 'JSON null' }),
];

/** `count` fuzzed messages across the scenario's topics, all of which must be dead-lettered. */
export function fuzzMessages(topics: ScenarioTopics, count: number, seed = 9): Map<string, Message[]> {
  const r = seeded(seed);
  const out = new Map<string, Message[]>(Object.values(topics).map((t) => [t, []]));
  for (let i = 0; i < count; i++) {
    const m = MUTATIONS[i % MUTATIONS.length]!(i, r);
    out.get(topics[m.topic])!.push({ key: `fuzz-${i}`, value: m.value as Buffer | string | null });
  }
  return out;
}

/** Spreads `extra` evenly through `base`, topic by topic (valid and fuzz interleaved). */
export function interleave(base: Map<string, Message[]>, extra: Map<string, Message[]>): Map<string, Message[]> {
  const out = new Map<string, Message[]>();
  for (const [topic, list] of base) {
    const add = extra.get(topic) ?? [];
    const merged: Message[] = [];
    const every = add.length === 0 ? Infinity : list.length / add.length;
    let j = 0;
    list.forEach((m, i) => {
      while (j < add.length && j * every <= i) merged.push(add[j++]!);
      merged.push(m);
    });
    while (j < add.length) merged.push(add[j++]!);
    out.set(topic, merged);
  }
  return out;
}
