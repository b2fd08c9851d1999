import type { Alert } from '../types.ts';
import { stepGroup, type AggregationGroup, type FlushReason } from './aggregation-group.ts';
import { formatLabels, labelValue, type Labels } from './labels.ts';
import { matchRoutes, type Route, type RouteOptions, type RoutingTree } from './tree.ts';

/**
 * The dispatcher as a pure function (Alertmanager's dispatch.Dispatcher without goroutines):
 * alerts are matched against the routing tree, put into one aggregation group per (route,
 * group labels), and the groups' timers say which groups flush now. Each flush is what the
 * notify chain (notify/chain.ts) takes. The state is plain data and can be persisted.
 */

export interface GroupEntry {
  routeId: string;
  groupKey: string;
  groupLabels: Labels;
  group: AggregationGroup;
}

export interface DispatchState {
  /** By group key. */
  groups: Readonly<Record<string, GroupEntry>>;
}

export const EMPTY_DISPATCH: DispatchState = { groups: {} };

/** A group's alerts, handed to the notify chain. */
export interface GroupFlush {
  groupKey: string;
  groupLabels: Labels;
  route: Route;
  receiver: string;
  alerts: Alert[];
  reason: FlushReason;
}

export interface DispatchStep {
  state: DispatchState;
  flushes: GroupFlush[];
  /** The earliest time a group needs stepping again; undefined when no group is left. */
  nextWakeAt: number | undefined;
}

/** The labels that name an alert's group on a route: those of `group_by` it has, or all with `...`. */
export function groupLabelsFor(options: RouteOptions, labels: Labels): Labels {
  if (options.groupByAll) return { ...labels };
  const out: Record<string, string> = {};
  for (const name of options.groupBy) if (Object.hasOwn(labels, name)) out[name] = labelValue(labels, name);
  return out;
}

/** `<route id>:{team="billing", workflow="plan-upgrade"}`: also the notification log's group key. */
export function groupKeyFor(route: Route, groupLabels: Labels): string {
  return `${route.id}:${formatLabels(groupLabels)}`;
}

/**
 * Routes `alerts` (the newest version of each, as the lifecycle has it) into their groups and
 * steps every group's timers to `now`. Call it with new alerts, and with none at `nextWakeAt`.
 * A group whose route is no longer in the tree (the config changed) is dropped.
 */
export function dispatch(state: DispatchState, tree: RoutingTree, alerts: readonly Alert[], now: number): DispatchStep {
  const arrivals = new Map<string, { route: Route; groupLabels: Labels; alerts: Alert[] }>();
  for (const alert of alerts) {
    if (alert.state === 'pending') continue;
    for (const route of matchRoutes(tree, alert.labels)) {
      const groupLabels = groupLabelsFor(route.options, alert.labels);
      const key = groupKeyFor(route, groupLabels);
      const bucket = arrivals.get(key) ?? { route, groupLabels, alerts: [] };
      bucket.alerts.push(alert);
      arrivals.set(key, bucket);
    }
  }

  const groups: Record<string, GroupEntry> = {};
  const flushes: GroupFlush[] = [];
  let nextWakeAt: number | undefined;
  const keys = new Set([...Object.keys(state.groups), ...arrivals.keys()]);
  for (const key of [...keys].sort()) {
    const entry = state.groups[key];
    const bucket = arrivals.get(key);
    const route = bucket?.route ?? tree.byId.get(entry!.routeId);
    if (!route) continue;
    const groupLabels = entry?.groupLabels ?? bucket!.groupLabels;
    const step = stepGroup(entry?.group, bucket?.alerts ?? [], now, route.options);
    if (step.notify) {
      flushes.push({ groupKey: key, groupLabels, route, receiver: route.options.receiver, alerts: step.notify.alerts, reason: step.notify.reason });
    }
    if (step.group) groups[key] = { routeId: route.id, groupKey: key, groupLabels, group: step.group };
    if (step.nextWakeAt !== undefined) nextWakeAt = Math.min(nextWakeAt ?? Infinity, step.nextWakeAt);
  }
  return { state: { groups }, flushes, nextWakeAt };
}

/**
 * Gives a flush's undelivered resolved alerts back to their group, so that the resolve is tried
 * again at the group's next flush (the group dropped them when it flushed). An alert the group
 * holds again meanwhile (it fired anew) is newer and wins.
 */
export function requeueUndelivered(state: DispatchState, flush: GroupFlush, undelivered: readonly Alert[], now: number): DispatchState {
  const again = undelivered.filter((a) => a.state === 'resolved');
  if (again.length === 0) return state;
  const entry = state.groups[flush.groupKey];
  const held = entry?.group.alerts ?? {};
  const alerts: Record<string, Alert> = { ...held };
  for (const alert of again) if (!Object.hasOwn(held, alert.fingerprint)) alerts[alert.fingerprint] = alert;
  const group: AggregationGroup = entry
    ? { ...entry.group, alerts }
    : { alerts, createdAt: now, flushAt: now + flush.route.options.groupIntervalMs, flushed: true };
  return { groups: { ...state.groups, [flush.groupKey]: { routeId: flush.route.id, groupKey: flush.groupKey, groupLabels: flush.groupLabels, group } } };
}

/** The groups without these alerts (another instance owns them now); groups left empty end. */
export function withoutAlerts(state: DispatchState, fingerprints: ReadonlySet<string>): DispatchState {
  const groups: Record<string, GroupEntry> = {};
  for (const [key, entry] of Object.entries(state.groups)) {
    const alerts = Object.fromEntries(Object.entries(entry.group.alerts).filter(([fingerprint]) => !fingerprints.has(fingerprint)));
    if (Object.keys(alerts).length > 0) groups[key] = { ...entry, group: { ...entry.group, alerts } };
  }
  return { groups };
}
