/** Runs counted for an SLO: what the store sums and the SLO math reads. */
export interface Counts {
  good: number;
  total: number;
}

/** Runs counted per minute of due time, for one SLO. `minute` is epoch ms / 60000. */
export interface MinuteCounts extends Counts {
  minute: number;
}
