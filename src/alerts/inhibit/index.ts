/** Inhibition rules: a firing source alert mutes matching target alerts with equal labels. */
export { inhibitedBy, isInhibited, type InhibitRule } from './inhibit.ts';
export { inhibitRulesSchema } from './config.ts';
