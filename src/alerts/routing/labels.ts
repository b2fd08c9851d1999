/** An alert's labels: what routing, grouping, inhibition and silences look at. */
export type Labels = Readonly<Record<string, string>>;

/** Label names as Prometheus has them; routing and silences refuse anything else. */
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A label a set does not have reads as the empty string, as in Alertmanager. */
export function labelValue(labels: Labels, name: string): string {
  return Object.hasOwn(labels, name) ? labels[name]! : '';
}

/** `{team="billing", workflow="plan-upgrade"}`, names sorted: stable, for group keys and messages. */
export function formatLabels(labels: Labels): string {
  const names = Object.keys(labels).sort();
  return `{${names.map((name) => `${name}=${JSON.stringify(labels[name])}`).join(', ')}}`;
}
