import { Session } from 'node:inspector/promises';
import type { Message } from 'kafkajs';
import { buildScenario, scenarioConfig } from '../test/support/scenario.ts';
import { parseConfigText } from '../src/config/load.ts';
import { checkContract, decoderFor, type RawMessage } from '../src/collectors/decode/index.ts';
import { Stitcher } from '../src/stitch/stitcher.ts';
import { eventRow, runRow, spanRow } from '../src/store/clickhouse/binary-rows.ts';
import { encodeRowBinary } from '../src/store/clickhouse/row-binary.ts';

const topics = { crm: 'bench.crm', billing: 'bench.billing', ticketing: 'bench.ticketing' };
const scenario = buildScenario(topics, 60000, 6000, 'h');
const offsets = new Map<string, number>();
function toRaw(topic: string, m: Message): RawMessage {
  const key = m.key == null ? null : String(m.key);
  let hash = 0; for (let i = 0; key && i < key.length; i++) hash = (hash * 31 + key.charCodeAt(i)) | 0;
  const partition = Math.abs(hash) % 4; const slot = `${topic}/${partition}`; const offset = offsets.get(slot) ?? 0; offsets.set(slot, offset + 1);
  const headers: Record<string, string> = {}; for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = String(v);
  return { value: m.value == null ? null : Buffer.from(m.value as string), headers, key, timestamp: Date.now(), origin: { topic, partition, offset: String(offset) } };
}
const raws: RawMessage[] = [];
for (const [topic, list] of scenario.messages) for (const m of list) raws.push(toRaw(topic, m));
const configText = scenarioConfig(topics, { database: 'x', groupId: 'x', brokers: ['x:1'], clickhouseUrl: 'http://x' });
function run() {
  const config = parseConfigText(configText, 'bench.yaml', {});
  const stitcher = new Stitcher(config.workflows, config.pipeline);
  const decoders = new Map(config.sources.map((s) => [s.topic, { decode: decoderFor(s), source: s.name }]));
  const contract = { maxFieldLength: config.pipeline.maxFieldLength, maxTimeAhead: config.pipeline.maxTimeAhead };
  let bytes = 0;
  const drain = (now: number) => { stitcher.tick(now); const out = stitcher.drain(now);
    if (process.env.ENC) { for (const c of encodeRowBinary(out.events, eventRow)) bytes += c.length; for (const c of encodeRowBinary(out.runs, runRow)) bytes += c.length; for (const c of encodeRowBinary(out.spans, spanRow)) bytes += c.length; } };
  for (const raw of raws) { const now = Date.now(); const d = decoders.get(raw.origin.topic)!;
    const result = checkContract(d.decode(raw), { source: d.source, ...contract }, now);
    if (result.ok) stitcher.apply(result.event, now);
    if (stitcher.pendingRows >= 50_000) drain(now); }
  drain(Date.now());
  return bytes;
}
run();
const session = new Session(); session.connect();
await session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
run();
const { profile } = await session.post('HeapProfiler.stopSampling');
const self = new Map<string, number>(); let total = 0;
const walk = (n: any) => { const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`; self.set(k, (self.get(k) ?? 0) + n.selfSize); total += n.selfSize; for (const c of n.children) walk(c); };
walk(profile.head);
console.log(`total ${(total / raws.length).toFixed(0)} B/msg over ${raws.length} msgs`);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${(v / raws.length).toFixed(0).padStart(6)} B/msg  ${k}`);
