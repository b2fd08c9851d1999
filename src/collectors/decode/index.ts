import type { SourceConfig } from '../config.ts';
import { decodeCloudEvent } from './cloudevents.ts';
import { compileErrorPaths } from './error-paths.ts';
import { compileMappedDecoder } from './mapped.ts';
import type { Decoder } from './message.ts';

export type { Decoder, DecodeResult, RawMessage } from './message.ts';
export { checkContract, type EventContract } from './contract.ts';

/** One decoder per source, chosen by its configured format. */
export function decoderFor(source: SourceConfig): Decoder {
  const errorPaths = compileErrorPaths(source.errors);
  if (source.format === 'mapped') return compileMappedDecoder(source.name, source.mapping!, errorPaths);
  return errorPaths.length > 0 ? (message) => decodeCloudEvent(message, errorPaths) : decodeCloudEvent;
}
