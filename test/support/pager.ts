import { SCENARIO_DETECTORS } from './alert-scenario.ts';
import type { SeamwatchProcess } from './child.ts';

/**
 * The scenario's detectors, routed to one PagerDuty receiver whose key comes from SEAMWATCH_PD_KEY.
 * `storm: false` pages every alert on its own however many fire together, for tests that follow
 * each alert's own trigger and resolve (storms have their own test, storm-pages).
 */
export function pagerRouting(url: string, timers: { groupWait: string; groupInterval: string }, options: { storm?: false | { threshold: number } } = {}): string {
  return `
${SCENARIO_DETECTORS}receivers:
  - name: pager
    pagerduty: { routingKeyEnv: SEAMWATCH_PD_KEY, url: "${url}"${options.storm === false ? ', storm: false' : options.storm ? `, storm: { threshold: ${options.storm.threshold} }` : ''} }
routes:
  receiver: pager
  group_by: [team, detector]
  group_wait: ${timers.groupWait}
  group_interval: ${timers.groupInterval}
`;
}

export interface ApiAlert {
  fingerprint: string;
  state: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** What a running seamwatch lists at /api/v1/alerts. */
export async function alertsOf(p: SeamwatchProcess): Promise<ApiAlert[]> {
  return ((await (await fetch(`http://127.0.0.1:${p.port}/api/v1/alerts`)).json()) as { alerts: ApiAlert[] }).alerts;
}
