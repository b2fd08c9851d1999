import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { compileSlo, sloReferenceProblems } from '../slo/config.ts';
import { parseOpenSlo, type OpenSloSlo } from '../slo/openslo.ts';
import type { SloDefinition } from '../slo/types.ts';
import { formatPath } from '../base/raw-config.ts';
import { referenceProblems } from './references.ts';
import { receiverSecretProblems, resolveReceivers } from '../alerts/receivers/config.ts';
import { httpSecretProblems } from '../collectors/http/config.ts';
import { configSchema, type ParsedConfig, type SeamwatchConfig } from './schema.ts';

export { formatPath };

/** Thrown when a configuration cannot be used; carries every problem found, not just the first. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(`${file}: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Connection settings and secrets may come from the environment; they win over the file. */
const ENV_OVERRIDES: { env: string; path: string[]; parse?: (v: string) => unknown }[] = [
  { env: 'SEAMWATCH_KAFKA_BROKERS', path: ['kafka', 'brokers'], parse: (v) => v.split(',').map((b) => b.trim()).filter(Boolean) },
  { env: 'SEAMWATCH_KAFKA_GROUP_ID', path: ['kafka', 'groupId'] },
  { env: 'SEAMWATCH_CLICKHOUSE_URL', path: ['store', 'clickhouse', 'url'] },
  // A server named in the environment is the store, whatever kind the file chose.
  { env: 'SEAMWATCH_CLICKHOUSE_URL', path: ['store', 'kind'], parse: () => 'clickhouse' },
  { env: 'SEAMWATCH_CLICKHOUSE_DATABASE', path: ['store', 'clickhouse', 'database'] },
  { env: 'SEAMWATCH_CLICKHOUSE_USER', path: ['store', 'clickhouse', 'username'] },
  { env: 'SEAMWATCH_CLICKHOUSE_PASSWORD', path: ['store', 'clickhouse', 'password'] },
  { env: 'SEAMWATCH_CLICKHOUSE_CLUSTER', path: ['store', 'clickhouse', 'cluster'] },
  { env: 'SEAMWATCH_HTTP_PORT', path: ['http', 'port'], parse: (v) => (/^\d+$/.test(v) ? Number(v) : v) },
  { env: 'SEAMWATCH_LOG_LEVEL', path: ['log', 'level'] },
];

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function describeIssue(issue: z.core.$ZodIssue, fromEnv: Map<string, string>): string {
  const key = formatPath(issue.path);
  // An override can set a whole list (SEAMWATCH_KAFKA_BROKERS), so an issue below it is its too.
  const env = [...fromEnv].find(([at]) => key === at || key.startsWith(`${at}.`) || key.startsWith(`${at}[`))?.[1];
  const where = env ? `${key} (from ${env})` : key;
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown key`).join('\n');
  }
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && issue.input === undefined) return `${where}: required`;
  return `${where}: ${issue.message}`;
}

/** Returns the text of an OpenSLO file named in `openslo:`, as written there; throws as fs does. */
export type OpenSloReader = (path: string) => string;

interface OpenSloFileSlo extends OpenSloSlo {
  origin: string;
}

/**
 * Reads and checks the SLOs of the OpenSLO files the config names: their own problems, and
 * the cross-checks SLOs in the config get (names unique among all SLOs, workflows and steps
 * known). A file listed twice, or not a string, is the schema's and references' to report.
 */
function readOpenSlo(input: Record<string, unknown>, readFile: OpenSloReader): { slos: OpenSloFileSlo[]; problems: string[] } {
  const problems: string[] = [];
  const slos: OpenSloFileSlo[] = [];
  const files = new Set<string>();
  (Array.isArray(input['openslo']) ? input['openslo'] : []).forEach((file: unknown, i) => {
    if (typeof file !== 'string' || file === '' || files.has(file)) return;
    files.add(file);
    let text: string;
    try {
      text = readFile(file);
    } catch (error) {
      problems.push(`${formatPath(['openslo', i])}: cannot read "${file}": ${describeReadError(error)}`);
      return;
    }
    const parsed = parseOpenSlo(text, file);
    problems.push(...parsed.problems);
    slos.push(...parsed.slos.map((slo) => ({ ...slo, origin: file })));
  });
  const configSlos: unknown[] = Array.isArray(input['slos']) ? input['slos'] : [];
  const taken = new Set(configSlos.flatMap((s) => (s !== null && typeof s === 'object' && typeof (s as { name?: unknown }).name === 'string' ? [(s as { name: string }).name] : [])));
  for (const p of sloReferenceProblems(slos.map((s) => s.entry), input['workflows'], taken)) {
    problems.push(`${slos[p.index]!.locate(p.path)}: ${p.message}`);
  }
  return { slos, problems };
}

/** Fills in each SLO's workflow defaults; only called once every check has passed. */
function compileSlos(config: ParsedConfig, openSlo: readonly OpenSloFileSlo[]): SloDefinition[] {
  const workflows = new Map(config.workflows.map((w) => [w.name, w]));
  return [
    ...config.slos.map((spec) => compileSlo(spec, workflows.get(spec.workflow)!, 'config')),
    ...openSlo.map((slo) => compileSlo(slo.spec!, workflows.get(slo.spec!.workflow)!, slo.origin)),
  ];
}

/**
 * Validates a parsed configuration object. Returns the typed config, or every problem with
 * its key path. Environment overrides are applied first so that they are validated too.
 * OpenSLO files named in `openslo:` are read with `readFile` (default: from the working
 * directory; tests pass documents in memory).
 */
export function validateConfig(
  raw: unknown,
  env: NodeJS.ProcessEnv = {},
  readFile: OpenSloReader = (path) => readFileSync(path, 'utf8'),
): { ok: true; config: SeamwatchConfig } | { ok: false; problems: string[] } {
  const input = raw === null || raw === undefined ? {} : structuredClone(raw);
  if (typeof input !== 'object' || Array.isArray(input)) return { ok: false, problems: ['(root): must be a mapping'] };
  const fromEnv = new Map<string, string>();
  for (const o of ENV_OVERRIDES) {
    const value = env[o.env];
    if (value === undefined || value === '') continue;
    setPath(input as Record<string, unknown>, o.path, o.parse ? o.parse(value) : value);
    fromEnv.set(formatPath(o.path), o.env);
  }
  // Without reportInput zod leaves `input` off every issue, and a wrong type would read as "required".
  const result = configSchema.safeParse(input, { reportInput: true });
  // Cross-references are checked on the raw input too, so that they are reported together with
  // shape errors instead of only after those are fixed.
  const openSlo = readOpenSlo(input as Record<string, unknown>, readFile);
  const problems = [
    ...(result.success ? [] : result.error.issues.flatMap((i) => describeIssue(i, fromEnv).split('\n'))),
    ...[...referenceProblems(input), ...receiverSecretProblems(input, env), ...httpSecretProblems(input, env)].map((p) => `${formatPath(p.path)}: ${p.message}`),
    ...openSlo.problems,
  ];
  if (result.success && problems.length === 0) {
    return { ok: true, config: { ...result.data, slos: compileSlos(result.data, openSlo.slos), receivers: resolveReceivers(result.data.receivers, env) } };
  }
  return { ok: false, problems: [...new Set(problems)] };
}

function parseYaml(text: string, file: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => `line ${e.linePos?.[0]?.line ?? '?'}, column ${e.linePos?.[0]?.col ?? '?'}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '')}`));
  }
  return doc.toJS();
}

/**
 * Parses YAML text, reporting syntax errors with line and column. OpenSLO files are read with
 * `readFile` (default: relative to the folder of `file`).
 */
export function parseConfigText(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = {},
  readFile: OpenSloReader = (path) => readFileSync(resolve(dirname(file), path), 'utf8'),
): SeamwatchConfig {
  const result = validateConfig(parseYaml(text, file), env, readFile);
  if (!result.ok) throw new ConfigError(file, result.problems);
  return result.config;
}

/**
 * Reads, parses and validates a configuration file and the OpenSLO files it names (relative to
 * its folder). Nothing is half-loaded: it throws or returns all of it.
 */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<SeamwatchConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [describeReadError(error)]);
  }
  const raw = parseYaml(text, file);
  const listed = (raw as { openslo?: unknown } | null)?.openslo;
  const paths = Array.isArray(listed) ? [...new Set(listed.filter((p): p is string => typeof p === 'string' && p !== ''))] : [];
  const read = await Promise.all(paths.map((path) => readFile(resolve(dirname(file), path), 'utf8').catch((error: unknown) => ({ error }))));
  const texts = new Map(paths.map((path, i) => [path, read[i]!]));
  const result = validateConfig(raw, env, (path) => {
    const got = texts.get(path);
    if (typeof got === 'string') return got;
    throw got?.error ?? Object.assign(new Error(`not read: ${path}`), { code: 'ENOENT' });
  });
  if (!result.ok) throw new ConfigError(file, result.problems);
  return result.config;
}

function describeReadError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory, not a file';
  return `cannot read the file: ${code ?? String(error)}`;
}
