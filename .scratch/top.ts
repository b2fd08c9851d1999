import { readFileSync } from 'node:fs';
const p = JSON.parse(readFileSync(process.argv[2]!, 'utf8'));
const byId = new Map(p.nodes.map((n: any) => [n.id, n]));
const self = new Map<number, number>();
for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
const agg = new Map<string, number>(); let total = 0;
for (const [id, t] of self) { const n: any = byId.get(id); const name = n.callFrame.functionName; if (name === '(idle)') continue; const k = `${name || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`; agg.set(k, (agg.get(k) ?? 0) + t); total += t; }
for (const [k, v] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, 45)) console.log(`${(100 * v / total).toFixed(1).padStart(5)} %  ${k}`);
