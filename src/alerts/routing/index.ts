/** Alert routing: matchers, the routing tree, aggregation groups and the dispatcher. */
export { LabelMatcher, MatcherError, matchesAll, formatMatchers, MATCH_TYPES, type MatchType, type MatcherSpec } from './matcher.ts';
export { parseMatchers } from './parse-matchers.ts';
export { formatLabels, labelValue, LABEL_NAME, type Labels } from './labels.ts';
export { routeSchema, routingTreeSchema, matchersField, labelNamesField, type RouteSpec } from './config.ts';
export { routingReferenceProblems } from './references.ts';
export { buildRoutingTree, matchRoutes, DEFAULT_ROUTE_OPTIONS, type Route, type RouteOptions, type RoutingTree } from './tree.ts';
export { stepGroup, type AggregationGroup, type FlushReason, type GroupNotification, type GroupStep, type GroupTimers } from './aggregation-group.ts';
export { dispatch, requeueUndelivered, groupKeyFor, groupLabelsFor, EMPTY_DISPATCH, type DispatchState, type DispatchStep, type GroupEntry, type GroupFlush } from './grouping.ts';
export { validateAlertRouting } from './validate.ts';
