/** Silences and recurring maintenance windows (time intervals). */
export { isSilenced, silencedBy, silenceState, silenceToData, silenceFromData, type Silence, type SilenceData, type SilenceState } from './silence.ts';
export { checkSilence, createSilence, expireSilence, updateSilence, listSilences, pruneSilences, type SilenceFilter, type SilenceInput, type SilenceResult } from './silence-book.ts';
export { intervalContains, isInMaintenance, activeWindows, windowActive, type MaintenanceWindow, type TimeIntervalSpec, type TimeRange, type InclusiveRange } from './time-interval.ts';
export { timeIntervalsSchema } from './time-interval-config.ts';
