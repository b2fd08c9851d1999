import { DateTime, IANAZone } from 'luxon';
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { sloSchema, type SloSpec } from './config.ts';

/**
 * OpenSLO v1 `kind: SLO` documents, translated into `slos:` entries so that they pass the same
 * schema and cross-checks as SLOs written in the seamwatch config. What seamwatch cannot
 * measure as written is refused with the field path and what is supported, never guessed at.
 * docs/openslo.md describes the accepted shape.
 */

type KeyPath = (string | number)[];

export interface OpenSloSlo {
  /** The SLO as a `slos:` entry (raw), for the cross-checks against the workflows. */
  entry: Record<string, unknown>;
  /** The checked entry; undefined when the document has problems. */
  spec: SloSpec | undefined;
  /** Where a key path of `entry` is written in the file: "openslo/a.yaml: document 1: spec.service". */
  locate(path: readonly PropertyKey[]): string;
}

export interface OpenSloResult {
  slos: OpenSloSlo[];
  problems: string[];
}

/** The annotation that names the owning team when it is not the SLO's `spec.service`. */
export const OWNER_ANNOTATION = 'seamwatch.io/owner';
const IGNORED_KINDS = ['Service', 'DataSource'];
const METRIC_SOURCE_TYPE = 'seamwatch';
const GOOD_SPEC: KeyPath = ['spec', 'indicator', 'spec', 'ratioMetric', 'good', 'metricSource', 'spec'];
const TOTAL_SPEC: KeyPath = ['spec', 'indicator', 'spec', 'ratioMetric', 'total', 'metricSource', 'spec'];
const WINDOW: KeyPath = ['spec', 'timeWindow', 0];
const CALENDAR = { '1w': 'week', '1M': 'month', '1Q': 'quarter' } as const;
const CALENDAR_STARTS = { week: 'Monday', month: 'the 1st of a month', quarter: 'the 1st of January, April, July or October' };

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** A key path as the YAML reads: spec.objectives[0].target, metadata.annotations["seamwatch.io/owner"]. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(String(part))) out += out ? `.${String(part)}` : String(part);
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out || '(root)';
}

interface Translation {
  entry: Record<string, unknown>;
  /** Where each entry key came from, when not the default place. */
  from: Map<string, KeyPath>;
  problems: { path: KeyPath; message: string }[];
  /** Entry keys left out because their part of the document was refused: the schema is not asked about them. */
  blocked: Set<string>;
}

/** Reports keys of `value` outside `allowed`, or with a reason of their own in `refused`. */
function checkKeys(t: Translation, value: Record<string, unknown>, at: KeyPath, allowed: string[], refused: Record<string, string> = {}): void {
  for (const key of Object.keys(value)) {
    if (key in refused) t.problems.push({ path: [...at, key], message: refused[key]! });
    else if (!allowed.includes(key)) t.problems.push({ path: [...at, key], message: 'unknown key' });
  }
}

/** A mapping at `at`, or a problem; `required` says whether absence is one. */
function mappingAt(t: Translation, value: unknown, at: KeyPath, required = true): Record<string, unknown> | undefined {
  if (isObject(value)) return value;
  if (value !== undefined || required) t.problems.push({ path: at, message: value === undefined ? 'required' : 'must be a mapping' });
  return undefined;
}

function translateMetricSource(t: Translation, ratio: Record<string, unknown>, role: 'good' | 'total'): Record<string, unknown> | undefined {
  const at: KeyPath = ['spec', 'indicator', 'spec', 'ratioMetric', role];
  const part = mappingAt(t, ratio[role], at);
  if (!part) return undefined;
  checkKeys(t, part, at, ['metricSource']);
  const source = mappingAt(t, part['metricSource'], [...at, 'metricSource']);
  if (!source) return undefined;
  checkKeys(t, source, [...at, 'metricSource'], ['metricSourceRef', 'type', 'spec']);
  const type = source['type'];
  if (type !== METRIC_SOURCE_TYPE) {
    const message = type === undefined ? `required (${METRIC_SOURCE_TYPE})` : `"${String(type)}" is not supported (supported: ${METRIC_SOURCE_TYPE})`;
    t.problems.push({ path: [...at, 'metricSource', 'type'], message });
  }
  const spec = mappingAt(t, source['spec'], [...at, 'metricSource', 'spec']);
  if (!spec) return undefined;
  if (role === 'good') checkKeys(t, spec, GOOD_SPEC, ['workflow', 'indicator']);
  else checkKeys(t, spec, TOTAL_SPEC, ['workflow'], { indicator: 'not allowed: total counts every run of the workflow' });
  return spec;
}

function translateIndicator(t: Translation, spec: Record<string, unknown>): void {
  t.blocked.add('workflow').add('indicator');
  if (spec['indicatorRef'] !== undefined) {
    t.problems.push({ path: ['spec', 'indicatorRef'], message: 'not supported: define the indicator inline under spec.indicator' });
    return;
  }
  const indicator = mappingAt(t, spec['indicator'], ['spec', 'indicator']);
  if (!indicator) return;
  checkKeys(t, indicator, ['spec', 'indicator'], ['metadata', 'spec']);
  const sli = mappingAt(t, indicator['spec'], ['spec', 'indicator', 'spec']);
  if (!sli) return;
  const ratioOnly = 'not supported (supported: ratioMetric with good and total)';
  checkKeys(t, sli, ['spec', 'indicator', 'spec'], ['description', 'ratioMetric'], { thresholdMetric: ratioOnly });
  if (sli['thresholdMetric'] !== undefined) return;
  const ratio = mappingAt(t, sli['ratioMetric'], ['spec', 'indicator', 'spec', 'ratioMetric']);
  if (!ratio) return;
  const goodTotal = 'not supported (supported: good and total)';
  checkKeys(t, ratio, ['spec', 'indicator', 'spec', 'ratioMetric'], ['counter', 'good', 'total'], { bad: goodTotal, raw: goodTotal, rawType: goodTotal });
  const good = translateMetricSource(t, ratio, 'good');
  const total = translateMetricSource(t, ratio, 'total');
  if (good) {
    t.entry['workflow'] = good['workflow'];
    t.entry['indicator'] = good['indicator'];
    t.blocked.delete('workflow');
    t.blocked.delete('indicator');
  }
  if (good && total && total['workflow'] === undefined) t.problems.push({ path: [...TOTAL_SPEC, 'workflow'], message: 'required' });
  else if (good && total && typeof good['workflow'] === 'string' && total['workflow'] !== good['workflow']) {
    t.problems.push({ path: [...TOTAL_SPEC, 'workflow'], message: `must be the workflow of good ("${good['workflow']}")` });
  }
}

function translateWindow(t: Translation, spec: Record<string, unknown>): void {
  t.blocked.add('window');
  const windows = spec['timeWindow'];
  if (!Array.isArray(windows) || windows.length !== 1) {
    const message = windows === undefined ? 'required (one rolling or calendar window)' : 'must be a list of exactly one window';
    t.problems.push({ path: ['spec', 'timeWindow'], message });
    return;
  }
  const window = mappingAt(t, windows[0], WINDOW);
  if (!window) return;
  checkKeys(t, window, WINDOW, ['duration', 'isRolling', 'calendar']);
  const { duration, isRolling, calendar } = window;
  if (isRolling !== undefined && typeof isRolling !== 'boolean') {
    t.problems.push({ path: [...WINDOW, 'isRolling'], message: 'must be true or false' });
    return;
  }
  const shorthand = typeof duration === 'string' ? /^(\d+)([mhdwMQY])$/.exec(duration) : null;
  if (!shorthand) {
    const message = duration === undefined ? 'required' : `not a duration: "${String(duration)}" (OpenSLO shorthand such as 28d, 1w, 1M)`;
    t.problems.push({ path: [...WINDOW, 'duration'], message });
    return;
  }
  // OpenSLO: isRolling may be left out, and is then false when a calendar is given.
  if (isRolling === true || (isRolling === undefined && calendar === undefined)) {
    if (calendar !== undefined) t.problems.push({ path: [...WINDOW, 'calendar'], message: 'not allowed when isRolling is true' });
    else if ('MQY'.includes(shorthand[2]!)) {
      t.problems.push({ path: [...WINDOW, 'duration'], message: `"${duration}" is not supported for a rolling window (use m, h, d or w, e.g. 28d)` });
    } else {
      t.entry['window'] = duration;
      t.blocked.delete('window');
    }
    return;
  }
  const unit = CALENDAR[duration as keyof typeof CALENDAR];
  if (!unit) t.problems.push({ path: [...WINDOW, 'duration'], message: `"${duration}" is not supported for a calendar window (supported: 1w, 1M, 1Q)` });
  const cal = mappingAt(t, calendar, [...WINDOW, 'calendar']);
  if (!cal || !unit) return;
  checkKeys(t, cal, [...WINDOW, 'calendar'], ['startTime', 'timeZone']);
  const timeZone = cal['timeZone'] ?? 'UTC';
  t.entry['window'] = { calendar: unit, timeZone };
  t.blocked.delete('window');
  const startTime = cal['startTime'];
  if (startTime === undefined || typeof timeZone !== 'string' || !IANAZone.isValidZone(timeZone)) return;
  // OpenSLO writes "2020-01-21 12:30:00", a local time without a zone; ISO "2020-01-21T12:30:00" reads the same.
  const local = (text: string) => [DateTime.fromSQL(text, { zone: timeZone }), DateTime.fromISO(text, { zone: timeZone })].find((d) => d.isValid);
  const start = typeof startTime === 'string' ? local(startTime) : undefined;
  if (!start) {
    t.problems.push({ path: [...WINDOW, 'calendar', 'startTime'], message: `not a start time: ${JSON.stringify(startTime)} (use e.g. 2024-01-01 00:00:00)` });
  } else if (start.toMillis() !== start.startOf(unit).toMillis()) {
    t.problems.push({
      path: [...WINDOW, 'calendar', 'startTime'],
      message: `"${startTime}" does not start a ${unit} in ${timeZone}: seamwatch's ${unit}s start at 00:00 on ${CALENDAR_STARTS[unit]}`,
    });
  }
}

function translateObjective(t: Translation, spec: Record<string, unknown>): void {
  const objectives = spec['objectives'];
  t.blocked.add('objective');
  if (!Array.isArray(objectives) || objectives.length !== 1) {
    const message = Array.isArray(objectives) && objectives.length > 1 ? `has ${objectives.length} objectives; seamwatch supports exactly one` : 'required (one objective with target or targetPercent)';
    t.problems.push({ path: ['spec', 'objectives'], message });
    return;
  }
  const at: KeyPath = ['spec', 'objectives', 0];
  const objective = mappingAt(t, objectives[0], at);
  if (!objective) return;
  t.blocked.delete('objective');
  const threshold = 'not supported: op and value apply to threshold metrics';
  const timeslices = 'not supported: seamwatch budgets by Occurrences, not time slices';
  checkKeys(t, objective, at, ['displayName', 'target', 'targetPercent'], { op: threshold, value: threshold, timeSliceTarget: timeslices, timeSliceWindow: timeslices });
  const { target, targetPercent } = objective;
  // The schema also reads "99.9%"; OpenSLO says numbers, so a string is refused here.
  if (target !== undefined && targetPercent !== undefined) t.problems.push({ path: at, message: 'give target or targetPercent, not both' });
  else if (targetPercent !== undefined && typeof targetPercent !== 'number') t.problems.push({ path: [...at, 'targetPercent'], message: 'must be a number' });
  else if (targetPercent !== undefined) {
    t.entry['objective'] = `${targetPercent}%`;
    t.from.set('objective', [...at, 'targetPercent']);
  } else if (target === undefined) t.problems.push({ path: [...at, 'target'], message: 'required (or targetPercent)' });
  else if (typeof target !== 'number') t.problems.push({ path: [...at, 'target'], message: 'must be a number' });
  else t.entry['objective'] = target;
  if (t.entry['objective'] === undefined) t.blocked.add('objective');
}

/** Translates one `kind: SLO` document; problems carry document key paths. */
function translateSlo(doc: Record<string, unknown>): Translation {
  const t: Translation = { entry: {}, from: new Map(), problems: [], blocked: new Set() };
  checkKeys(t, doc, [], ['apiVersion', 'kind', 'metadata', 'spec']);
  const metadata = mappingAt(t, doc['metadata'], ['metadata']);
  if (!metadata) t.blocked.add('name');
  else {
    checkKeys(t, metadata, ['metadata'], ['name', 'displayName', 'labels', 'annotations']);
    t.entry['name'] = metadata['name'];
  }
  const annotations = mappingAt(t, metadata?.['annotations'], ['metadata', 'annotations'], false);
  const spec = mappingAt(t, doc['spec'], ['spec']);
  if (!spec) {
    for (const key of ['workflow', 'indicator', 'window', 'objective']) t.blocked.add(key);
    return t;
  }
  const policies = spec['alertPolicies'];
  const refused: Record<string, string> = {};
  if (!Array.isArray(policies) || policies.length > 0) {
    refused['alertPolicies'] = 'not supported: seamwatch alerts by its burn-rate tiers (define the SLO in the seamwatch config to change them)';
  }
  const known = ['description', 'service', 'indicator', 'indicatorRef', 'timeWindow', 'budgetingMethod', 'objectives', 'alertPolicies'];
  checkKeys(t, spec, ['spec'], known, refused);
  if (typeof spec['service'] !== 'string' || spec['service'] === '') {
    t.problems.push({ path: ['spec', 'service'], message: spec['service'] === undefined ? 'required' : 'must be a name' });
  }
  if (annotations?.[OWNER_ANNOTATION] !== undefined) {
    t.entry['owner'] = annotations[OWNER_ANNOTATION];
    t.from.set('owner', ['metadata', 'annotations', OWNER_ANNOTATION]);
  } else if (typeof spec['service'] === 'string' && spec['service'] !== '') t.entry['owner'] = spec['service'];
  if (spec['description'] !== undefined) t.entry['description'] = spec['description'];
  const method = spec['budgetingMethod'];
  if (method !== 'Occurrences') {
    const message = method === undefined ? 'required (Occurrences)' : `"${String(method)}" is not supported (supported: Occurrences)`;
    t.problems.push({ path: ['spec', 'budgetingMethod'], message });
  }
  translateIndicator(t, spec);
  translateWindow(t, spec);
  translateObjective(t, spec);
  return t;
}

/** Where an entry key path is in the document. */
function documentPath(t: Translation, path: readonly PropertyKey[]): KeyPath {
  const [key, ...rest] = path as KeyPath;
  const from = t.from.get(String(key));
  if (from) return from;
  switch (key) {
    case 'name':
      return ['metadata', 'name'];
    case 'owner':
      return ['spec', 'service'];
    case 'description':
      return ['spec', 'description'];
    case 'objective':
      return ['spec', 'objectives', 0, 'target'];
    case 'window':
      return rest[0] === 'timeZone' ? [...WINDOW, 'calendar', 'timeZone'] : [...WINDOW, 'duration'];
    case 'workflow':
      return [...GOOD_SPEC, 'workflow'];
    case 'indicator':
      return [...GOOD_SPEC, 'indicator', ...rest];
    default:
      return path as KeyPath;
  }
}

function schemaMessages(issue: z.core.$ZodIssue): { path: KeyPath; message: string }[] {
  const path = issue.path as KeyPath;
  if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => ({ path: [...path, k], message: 'unknown key' }));
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && issue.input === undefined) return [{ path, message: 'required' }];
  return [{ path, message: issue.message }];
}

/**
 * Reads the OpenSLO documents of one file. `file` names it in messages and is each SLO's
 * origin. Service and DataSource documents are skipped: they describe things seamwatch does
 * not need. Every other kind is refused, so that no alert policy or SLI is silently dropped.
 */
export function parseOpenSlo(text: string, file: string): OpenSloResult {
  const result: OpenSloResult = { slos: [], problems: [] };
  const documents = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  if (!Array.isArray(documents)) return result; // an empty file
  documents.forEach((document, i) => {
    const where = `${file}: document ${i + 1}`;
    if (document.errors.length > 0) {
      for (const e of document.errors) {
        result.problems.push(`${file}: line ${e.linePos?.[0]?.line ?? '?'}, column ${e.linePos?.[0]?.col ?? '?'}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '')}`);
      }
      return;
    }
    const doc: unknown = document.toJS();
    if (doc === null || doc === undefined) return; // "---" with nothing after it
    const report = (path: KeyPath, message: string) => result.problems.push(`${where}: ${formatKeyPath(path)}: ${message}`);
    if (!isObject(doc)) return report([], 'must be a mapping (an OpenSLO object)');
    const versionOk = doc['apiVersion'] === 'openslo/v1';
    if (!versionOk) {
      report(['apiVersion'], doc['apiVersion'] === undefined ? 'required (openslo/v1)' : `"${String(doc['apiVersion'])}" is not supported (supported: openslo/v1)`);
    }
    const kind = doc['kind'];
    if (typeof kind === 'string' && IGNORED_KINDS.includes(kind)) return;
    if (kind !== 'SLO') {
      return report(['kind'], kind === undefined ? 'required (SLO)' : `"${String(kind)}" is not supported (supported: SLO; ${IGNORED_KINDS.join(' and ')} documents are ignored)`);
    }
    const t = translateSlo(doc);
    for (const p of t.problems) report(p.path, p.message);
    const parsed = sloSchema.safeParse(t.entry, { reportInput: true });
    if (!parsed.success) {
      for (const issue of parsed.error.issues.flatMap(schemaMessages)) {
        if (!t.blocked.has(String(issue.path[0]))) report(documentPath(t, issue.path), issue.message);
      }
    }
    result.slos.push({
      entry: t.entry,
      spec: versionOk && parsed.success && t.problems.length === 0 ? parsed.data : undefined,
      locate: (path) => `${where}: ${formatKeyPath(documentPath(t, path))}`,
    });
  });
  return result;
}
