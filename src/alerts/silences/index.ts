/** Silences: ad-hoc mutes made through the API. Recurring maintenance windows are in ../time-intervals/. */
export { isSilenced, silencedBy, silenceState, silenceToData, silenceFromData, type Silence, type SilenceData, type SilenceState } from './silence.ts';
export { checkSilence, createSilence, expireSilence, updateSilence, listSilences, pruneSilences, type SilenceFilter, type SilenceInput, type SilenceResult } from './silence-book.ts';
