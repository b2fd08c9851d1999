import type { Receiver } from '../notify/receiver.ts';

/** A receiver with a lifecycle: the dispatcher starts it before the first flush and stops it last. */
export interface ManagedReceiver extends Receiver {
  /** Returns quickly. */
  start(): Promise<void>;
  /** Idempotent and safe before start(): delivers or abandons what is in flight within its deadline. */
  shutdown(): Promise<void>;
}
