export type DemoSource = 'crm' | 'billing' | 'ticketing';

/** One message of the demo business, due at `at`, for one of its three sources. */
export interface Message {
  key: string;
  value: string;
}

export interface Pending {
  at: number;
  topic: DemoSource;
  message: Message;
}

/** How the demo's messages reach seamwatch. `send` returns those to try again later (the sender was told to retry). */
export interface DemoTransport {
  send(due: readonly Pending[]): Promise<Pending[]>;
  close(): Promise<void>;
}
