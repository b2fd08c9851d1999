import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';

/** What one file imports: files of src/ (relative to it) and packages by name. */
export interface FileImports {
  internal: string[];
  external: string[];
}

/**
 * The floors of the code, from the ground up (DESIGN.md, "Floors and folders"). Each entry is
 * a top-level folder (or file) of src/ and the folders it may import besides itself.
 */
export interface Floor {
  name: string;
  folders: string[];
  may: string[];
  /** No I/O: none of IO_PACKAGES may be imported. */
  pure?: boolean;
}

const GROUND = ['domain', 'base'];
const CORES = [...GROUND, 'stitch', 'slo', 'alerts'];
const ADAPTERS = ['store', 'collectors', 'telemetry'];
const STAGES = [...CORES, ...ADAPTERS, 'pipeline', 'controls'];

export const FLOORS: readonly Floor[] = [
  // ground: plain types of the business, and plumbing that knows nothing of it
  { name: 'domain', folders: ['domain'], may: [], pure: true },
  { name: 'base', folders: ['base'], may: [] },
  // pure cores, each above the one before it
  { name: 'stitch', folders: ['stitch'], may: GROUND, pure: true },
  { name: 'slo', folders: ['slo'], may: [...GROUND, 'stitch'] },
  { name: 'alerts', folders: ['alerts'], may: [...GROUND, 'stitch', 'slo'] },
  // adapters: implement interfaces of the ground, never reach into slo or alerts
  { name: 'store', folders: ['store'], may: GROUND },
  { name: 'telemetry', folders: ['telemetry'], may: GROUND },
  { name: 'collectors', folders: ['collectors'], may: [...GROUND, 'telemetry'] },
  // the chain of stages that composes cores and adapters
  { name: 'pipeline', folders: ['pipeline'], may: [...CORES, ...ADAPTERS] },
  // the operator's controls (paging pauses, dead-letter replay, backfill, audit): beside the pipeline
  { name: 'controls', folders: ['controls'], may: [...CORES, ...ADAPTERS, 'pipeline'] },
  // faces people and other programs look at
  { name: 'http', folders: ['http'], may: STAGES },
  { name: 'scorecard', folders: ['scorecard'], may: STAGES },
  // the composition root: the root config schema, the wiring, the command line
  { name: 'root', folders: ['app.ts', 'config', 'cli'], may: [...STAGES, 'http', 'scorecard', 'root'] },
];

/** Packages that do I/O (or hold process-wide state) and must stay out of pure floors. */
export const IO_PACKAGES = new Set([
  'kafkajs',
  '@clickhouse/client',
  'chdb',
  'express',
  'pino',
  'prom-client',
  'node:fs',
  'node:fs/promises',
  'node:http',
  'node:https',
  'node:net',
  'node:child_process',
]);

function sourceFiles(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(root, path);
    return entry.name.endsWith('.ts') ? [relative(root, path).split('\\').join('/')] : [];
  });
}

const STATIC_IMPORT = /^\s*(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'/gm;
const BARE_IMPORT = /^\s*import\s+'([^']+)'/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*'([^']+)'\s*\)/g;

function packageName(specifier: string): string {
  if (specifier.startsWith('node:')) return specifier;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** The import graph of every .ts file under `root`, keyed by path relative to it. */
export function importGraph(root: string): Map<string, FileImports> {
  const graph = new Map<string, FileImports>();
  for (const file of sourceFiles(root)) {
    const text = readFileSync(join(root, file), 'utf8');
    const specifiers = [STATIC_IMPORT, BARE_IMPORT, DYNAMIC_IMPORT].flatMap((re) => [...text.matchAll(re)].map((m) => m[1]!));
    const internal = new Set<string>();
    const external = new Set<string>();
    for (const spec of specifiers) {
      if (spec.startsWith('.')) internal.add(posix.normalize(posix.join(dirname(file), spec)));
      else external.add(packageName(spec));
    }
    graph.set(file, { internal: [...internal].sort(), external: [...external].sort() });
  }
  return graph;
}

function floorOf(file: string): Floor | undefined {
  return FLOORS.find((f) => f.folders.some((folder) => file === folder || file.startsWith(`${folder}/`)));
}

/** Every import that leaves a file's floor for one it may not use, as readable lines. */
export function floorViolations(graph: ReadonlyMap<string, FileImports>): string[] {
  const out: string[] = [];
  for (const [file, imports] of graph) {
    const floor = floorOf(file);
    if (!floor) continue;
    for (const target of imports.internal) {
      const to = floorOf(target);
      if (to === floor || (to && floor.may.includes(to.name))) continue;
      out.push(`${file} imports ${target} (${floor.name} may import only: ${['itself', ...floor.may].join(', ')})`);
    }
    if (floor.pure) {
      for (const pkg of imports.external) {
        if (IO_PACKAGES.has(pkg)) out.push(`${file} imports the package ${pkg} (${floor.name} is pure: no I/O packages)`);
      }
    }
  }
  return out;
}

/** One circle per strongly connected group of files, starting and ending at its smallest file. */
export function findCycles(graph: ReadonlyMap<string, FileImports>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const edges = (file: string) => (graph.get(file)?.internal ?? []).filter((t) => graph.has(t));
  const visit = (file: string): void => {
    index.set(file, counter);
    low.set(file, counter++);
    stack.push(file);
    onStack.add(file);
    for (const next of edges(file)) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(file, Math.min(low.get(file)!, index.get(next)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const group: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      group.push(member);
    } while (member !== file);
    if (group.length > 1 || edges(file).includes(file)) groups.push(group);
  };
  for (const file of [...graph.keys()].sort()) if (!index.has(file)) visit(file);
  return groups.map((group) => {
    const members = new Set(group);
    const start = [...group].sort()[0]!;
    // Shortest way round from the smallest file back to itself, inside the group.
    const previous = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const at = queue.shift()!;
      for (const next of edges(at).filter((t) => members.has(t))) {
        if (next === start) {
          const path = [start];
          for (let step: string | undefined = at; step !== undefined && step !== start; step = previous.get(step)) path.splice(1, 0, step);
          return [...path, start];
        }
        if (!previous.has(next)) {
          previous.set(next, at);
          queue.push(next);
        }
      }
    }
    return [start, start];
  }).sort((a, b) => a[0]!.localeCompare(b[0]!));
}
