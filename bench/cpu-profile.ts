/**
 * node bench/cpu-profile.ts FILE.cpuprofile [fromMs toMs] — self time of a `--cpu-prof` profile
 * by component, as in the README's "Where the time goes": % of the busy (not idle) samples.
 *
 * Without a window it prints busy ms per second of the profile first, to find the ingest
 * window (start-up and module loading come before it). V8 builtins (JSON.parse, utf8Write…)
 * and Node's own JavaScript (node:buffer…) count for the component that called them: a
 * Buffer.concat inside kafkajs is Kafka-client time. What no component called stays "Node core".
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, from = '-Infinity', to = 'Infinity'] = process.argv.slice(2);
if (!file) throw new Error('usage: node bench/cpu-profile.ts FILE.cpuprofile [fromMs toMs]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);

/** Where a frame's code lives, as a component name. */
function component(url: string, name: string): string {
  if (name === '(garbage collector)') return 'garbage collection';
  if (name === '(idle)') return 'idle';
  if (name === '(program)') return 'V8 (compiler, ICs)';
  if (url.includes('/src/stitch/') || url.includes('/src/slo/')) return 'stitch + SLO judge';
  if (/\/src\/store\/clickhouse\/(row-binary|binary-rows|rows)\.ts/.test(url)) return 'row encoding';
  if (url.includes('node_modules/kafkajs/')) return 'kafkajs';
  if (url.includes('/src/collectors/decode/') || url.includes('/src/domain/field-path')) return 'decode';
  if (url.includes('/src/collectors/') || url.includes('/src/pipeline/')) return 'collector + pipeline';
  if (url.includes('node_modules/')) return `other libraries (${url.split('node_modules/')[1]!.split('/')[0]})`;
  if (url.includes('/src/')) return `other seamwatch (${url.split('/src/')[1]})`;
  return 'Node core';
}

/** A frame's component and a label for its function; builtins and node: code go to their caller. */
function classify(id: number): [string, string] {
  const { functionName, url } = byId.get(id)!.callFrame;
  const own = url !== '' && !url.startsWith('node:');
  if (own || functionName.startsWith('(')) return [component(url, functionName), `${functionName || '(anonymous)'} ${url.split('/').pop()}`];
  for (let a = parentOf.get(id); a !== undefined; a = parentOf.get(a)) {
    const caller = byId.get(a)!.callFrame;
    if (caller.url !== '' && !caller.url.startsWith('node:')) return [component(caller.url, caller.functionName), `${functionName || '(builtin)'} ← ${caller.functionName}`];
  }
  return ['Node core', `${functionName} ${url}`];
}

const window = [Number(from), Number(to)] as const;
const perComponent = new Map<string, number>();
const perFunction = new Map<string, Map<string, number>>();
const busyPerSecond = new Map<number, number>();
let busy = 0;
let t = 0;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i]! / 1000;
  const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
  const [where, label] = classify(profile.samples[i]!);
  if (where === 'idle') continue;
  busyPerSecond.set(Math.floor(t / 1000), (busyPerSecond.get(Math.floor(t / 1000)) ?? 0) + ms);
  if (t < window[0] || t > window[1]) continue;
  busy += ms;
  perComponent.set(where, (perComponent.get(where) ?? 0) + ms);
  const fns = perFunction.get(where) ?? new Map<string, number>();
  fns.set(label, (fns.get(label) ?? 0) + ms);
  perFunction.set(where, fns);
}

if (process.argv.length <= 3) for (const [s, ms] of [...busyPerSecond].sort((a, b) => a[0] - b[0])) process.stdout.write(`${s} s: ${ms.toFixed(0)} ms busy\n`);
process.stdout.write(`busy: ${busy.toFixed(0)} ms from ${window[0]} to ${window[1]} ms\n| component | share | top functions |\n| --- | --- | --- |\n`);
for (const [where, ms] of [...perComponent].sort((a, b) => b[1] - a[1])) {
  if (ms / busy < 0.003) continue;
  const top = [...perFunction.get(where)!].sort((a, b) => b[1] - a[1]).slice(0, 6).filter(([, f]) => f / busy >= 0.002);
  process.stdout.write(`| ${where} | ${((ms / busy) * 100).toFixed(1)} % | ${top.map(([f, fm]) => `\`${f}\` ${((fm / busy) * 100).toFixed(1)} %`).join(', ')} |\n`);
}
