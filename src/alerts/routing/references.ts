import { asArray, asObject, asString } from '../../base/raw-config.ts';
import type { ReferenceProblem } from '../../base/raw-config.ts';

/**
 * What the routing schemas cannot check alone: receivers that routes name must exist, time
 * intervals that routes name must be defined (once). Works on the raw config, tolerating any
 * shape, so its findings come together with the schema's (as config/references.ts does).
 * `receivers` are the configured receiver names (the PagerDuty teams, webhooks, …).
 */
export function routingReferenceProblems(raw: unknown, receivers: readonly string[]): ReferenceProblem[] {
  const problems: ReferenceProblem[] = [];
  const config = asObject(raw);
  const intervals = new Set<string>();
  asArray(config['time_intervals']).forEach((entry, i) => {
    const name = asString(asObject(entry)['name']);
    if (name === undefined) return;
    if (intervals.has(name)) problems.push({ path: ['time_intervals', i, 'name'], message: `duplicate time interval "${name}"` });
    intervals.add(name);
  });
  const known = (names: Iterable<string>) => {
    const list = [...names];
    return list.length > 0 ? `known: ${list.join(', ')}` : 'none are configured';
  };
  const visit = (route: unknown, path: (string | number)[]) => {
    const node = asObject(route);
    const receiver = asString(node['receiver']);
    if (receiver !== undefined && receiver !== '' && !receivers.includes(receiver)) {
      problems.push({ path: [...path, 'receiver'], message: `unknown receiver "${receiver}" (${known(receivers)})` });
    }
    for (const key of ['mute_time_intervals', 'active_time_intervals']) {
      asArray(node[key]).forEach((name, i) => {
        if (typeof name === 'string' && name !== '' && !intervals.has(name)) {
          problems.push({ path: [...path, key, i], message: `unknown time interval "${name}" (${known(intervals)})` });
        }
      });
    }
    asArray(node['routes']).forEach((child, i) => visit(child, [...path, 'routes', i]));
  };
  if (config['routes'] !== undefined) visit(config['routes'], ['routes']);
  return problems;
}
