import type { DeadLetter } from './dead-letter.ts';
import type { RunRecord, RunState } from './records.ts';

/** What the web view and the API browse: runs and dead letters, filtered, newest first. */

/** Runs whose (newest) start is in [from, to), of a workflow and in a state when given. */
export interface RunQuery {
  workflow?: string;
  state?: RunState;
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  limit: number;
}

export interface RunPage {
  /** Newest start first, at most `limit`. */
  runs: RunRecord[];
  /** Every run the query matches, the limit aside. */
  total: number;
}

/** Dead letters stored in [from, to), of a topic and a reason when given. */
export interface DeadLetterQuery {
  topic?: string;
  reason?: string;
  from: number;
  to: number;
  limit: number;
}

export interface DeadLetterPage {
  /** Newest first, each message once, at most `limit`. */
  deadLetters: DeadLetter[];
  total: number;
}

/** One SLO verdict of a run, as the SLO engine counted it (newest version). */
export interface RunSloVerdict {
  slo: string;
  runId: string;
  /** When the run counts for the SLO (event time). */
  due: number;
  good: boolean;
}
