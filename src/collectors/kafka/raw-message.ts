import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { RawMessage } from '../decode/index.ts';

/** A message's headers as strings, the first value of a repeated one. */
export function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}

/** What the intake takes from a kafkajs message: the value's bytes as they came, and where it was read. */
export function toRaw(message: KafkaMessage, topic: string, partition: number): RawMessage {
  return {
    value: message.value,
    headers: headersOf(message.headers),
    key: message.key ? message.key.toString() : null,
    timestamp: Number(message.timestamp),
    origin: { topic, partition, offset: message.offset },
  };
}
