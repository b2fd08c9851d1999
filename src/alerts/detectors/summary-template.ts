/**
 * Summaries are written for the person paged, in the words of the business: a detector's
 * config may give a template such as
 * "Account {account_id} was invoiced {times} for {billing_period} (invoices {events}) — refund or void one".
 * A placeholder is `{name}`; the names a detector offers are checked when the config is read.
 */

const PLACEHOLDER = /\{([^{}]+)\}/g;

export function templatePlaceholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** Fills a template; a name without a value is left as written, so a mistake shows rather than vanishes. */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => (Object.hasOwn(values, name) ? values[name]! : whole));
}

/** "once", "twice", "3 times". */
export function times(count: number): string {
  if (count === 1) return 'once';
  if (count === 2) return 'twice';
  return `${count} times`;
}

/** Event time as people read it in a page: UTC, to the second. */
export function formatTime(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

/** "a", "a and b", "a, b and c". */
export function listOf(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
