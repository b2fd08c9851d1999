import type { RouteSpec } from './config.ts';
import type { Labels } from './labels.ts';
import { formatMatchers, matchesAll, type LabelMatcher } from './matcher.ts';

/** What a matching route decides for an alert: where it goes and how it is grouped and timed. */
export interface RouteOptions {
  receiver: string;
  /** Sorted label names; empty with `groupByAll` false puts every alert of the route in one group. */
  groupBy: readonly string[];
  /** `group_by: ['...']`: every distinct label set is its own group. */
  groupByAll: boolean;
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  /** Names of time intervals during which this route notifies nobody. Not inherited (as in Alertmanager). */
  muteTimeIntervals: readonly string[];
  /** When set, the route notifies only while one of these is active. Not inherited. */
  activeTimeIntervals: readonly string[];
}

export interface Route {
  /** Unique and stable while the config is: the path of matchers and positions from the root. */
  readonly id: string;
  readonly matchers: readonly LabelMatcher[];
  readonly continue: boolean;
  readonly options: RouteOptions;
  readonly routes: readonly Route[];
}

export interface RoutingTree {
  readonly root: Route;
  /** Every route by id, for state that names its route (aggregation groups). */
  readonly byId: ReadonlyMap<string, Route>;
}

/**
 * seamwatch's defaults for the root route, not Alertmanager's (30 s / 5 m, one group for all):
 * seamwatch pages per problem (one PagerDuty incident per alert), so a group's timers only
 * delay a page, never merge it. A new problem — the first of its group or one joining a group
 * already paged — goes out within `group_wait` / `group_interval` (1 s), and a group is one kind
 * of problem of one team and workflow (`alertname` is the detector), which is also what a
 * webhook receives together and what a PagerDuty storm (receivers' `storm`) covers.
 */
export const DEFAULT_ROUTE_OPTIONS: RouteOptions = {
  receiver: '',
  groupBy: ['alertname', 'team', 'workflow'],
  groupByAll: false,
  groupWaitMs: 1_000,
  groupIntervalMs: 1_000,
  repeatIntervalMs: 14_400_000,
  muteTimeIntervals: [],
  activeTimeIntervals: [],
};

const TYPE_ORDER = ['=', '!=', '=~', '!~'];

/** Alertmanager sorts a route's matchers, so the id does not depend on how they were written. */
function sortMatchers(matchers: readonly LabelMatcher[]): LabelMatcher[] {
  return [...matchers].sort(
    (a, b) =>
      a.name.localeCompare(b.name, 'en') ||
      TYPE_ORDER.indexOf(a.type) - TYPE_ORDER.indexOf(b.type) ||
      (a.value < b.value ? -1 : a.value > b.value ? 1 : 0),
  );
}

function buildRoute(spec: RouteSpec, parent: RouteOptions, id: string, byId: Map<string, Route>): Route {
  const groupByAll = spec.group_by === undefined ? parent.groupByAll : spec.group_by.includes('...');
  const options: RouteOptions = {
    receiver: spec.receiver ?? parent.receiver,
    groupBy: spec.group_by === undefined ? parent.groupBy : groupByAll ? [] : [...spec.group_by].sort(),
    groupByAll,
    groupWaitMs: spec.group_wait ?? parent.groupWaitMs,
    groupIntervalMs: spec.group_interval ?? parent.groupIntervalMs,
    repeatIntervalMs: spec.repeat_interval ?? parent.repeatIntervalMs,
    muteTimeIntervals: spec.mute_time_intervals,
    activeTimeIntervals: spec.active_time_intervals,
  };
  const matchers = sortMatchers(spec.matchers);
  const route: Route = {
    id,
    matchers,
    continue: spec.continue,
    options,
    routes: spec.routes.map((child, i) => buildRoute(child, options, `${id}/${formatMatchers(sortMatchers(child.matchers))}/${i}`, byId)),
  };
  byId.set(id, route);
  return route;
}

/** Compiles a validated tree: children take every unset field from their parent. */
export function buildRoutingTree(spec: RouteSpec): RoutingTree {
  const byId = new Map<string, Route>();
  const root = buildRoute(spec, DEFAULT_ROUTE_OPTIONS, formatMatchers(sortMatchers(spec.matchers)), byId);
  return { root, byId };
}

function matchRoute(route: Route, labels: Labels): Route[] | undefined {
  if (!matchesAll(route.matchers, labels)) return undefined;
  const all: Route[] = [];
  for (const child of route.routes) {
    const matches = matchRoute(child, labels);
    if (matches === undefined) continue;
    all.push(...matches);
    if (!child.continue) break;
  }
  // A route none of whose children matched handles the alert itself.
  return all.length > 0 ? all : [route];
}

/**
 * The routes that handle an alert, as Alertmanager's Route.Match: depth-first, left to right; a
 * matching child ends the search among its siblings unless it has `continue: true`; a matching
 * route without a matching child is itself the match. The root always matches.
 */
export function matchRoutes(tree: RoutingTree, labels: Labels): Route[] {
  return matchRoute(tree.root, labels) ?? [];
}
