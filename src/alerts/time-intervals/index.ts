/** Recurring maintenance windows (Alertmanager's time intervals) that routes mute or activate on. */
export { intervalContains, isInMaintenance, activeWindows, windowActive, type MaintenanceWindow, type TimeIntervalSpec, type TimeRange, type InclusiveRange } from './time-interval.ts';
export { timeIntervalsSchema } from './config.ts';
