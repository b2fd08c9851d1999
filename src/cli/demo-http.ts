import type { SeamwatchConfig } from '../config/schema.ts';
import type { SourceConfig } from '../collectors/config.ts';
import { sign } from '../collectors/http/signature.ts';
import type { DemoSource, DemoTransport, Pending } from './demo-transport.ts';

/** Requests in flight at once: enough to batch flushes, few enough for a shared machine. */
const CONCURRENCY = 16;

interface Request {
  items: Pending[];
  headers: Record<string, string>;
  body: string;
}

function parsed(value: string): Record<string, unknown> | undefined {
  try {
    const json: unknown = JSON.parse(value);
    return json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The demo business posted to the HTTP intake, showing each way in: CRM events batched
 * (`application/cloudevents-batch+json`), ticketing events in binary mode (`ce-*` headers), the
 * billing provider's webhooks one by one, signed when the config says so. A 429 or 503 is
 * retried after its Retry-After, as a provider would; a 400 or 401 is not (the garbage message
 * the demo sends on purpose is one).
 */
export function httpTransport(config: SeamwatchConfig, print: (line: string) => void): DemoTransport {
  const sourceOf = (name: DemoSource): SourceConfig => {
    const source = config.sources.find((s) => s.name === name && s.transport === 'http');
    if (!source) throw new Error(`seamwatch demo --http needs an HTTP source named "${name}" (transport: http) in the config: see config/seamwatch-http.yaml`);
    return source;
  };
  const sources = { crm: sourceOf('crm'), billing: sourceOf('billing'), ticketing: sourceOf('ticketing') };
  const { host, port } = config.httpIntake;
  const base = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`;
  let refused = 0;
  let unreachable = false;

  const requestsFor = (name: DemoSource, items: Pending[]): Request[] => {
    const source = sources[name];
    if (source.format === 'mapped') {
      return items.map((p) => {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        const signature = source.http?.signature;
        if (signature) {
          const t = String(Math.floor(Date.now() / 1000));
          const mac = sign(process.env[signature.secretEnv] ?? '', t, Buffer.from(p.message.value)).toString(signature.encoding);
          if (signature.timestampHeader) {
            headers[signature.header] = mac;
            headers[signature.timestampHeader] = t;
          } else headers[signature.header] = `t=${t},v1=${mac}`;
        }
        return { items: [p], headers, body: p.message.value };
      });
    }
    const events = items.map((p) => ({ p, event: parsed(p.message.value) }));
    const broken = events.filter((e) => !e.event).map((e) => ({ items: [e.p], headers: { 'content-type': 'application/cloudevents+json' }, body: e.p.message.value }));
    const good = events.filter((e) => e.event);
    if (name === 'ticketing') {
      // Binary mode: the attributes travel as headers, the body is only the data.
      const binary = good.map(({ p, event }) => {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        for (const [attr, value] of Object.entries(event!)) {
          if (attr !== 'data' && attr !== 'datacontenttype' && typeof value === 'string') headers[`ce-${attr}`] = encodeURIComponent(value);
        }
        return { items: [p], headers, body: JSON.stringify(event!['data'] ?? {}) };
      });
      return [...binary, ...broken];
    }
    const batch = good.length > 0 ? [{ items: good.map((e) => e.p), headers: { 'content-type': 'application/cloudevents-batch+json' }, body: `[${good.map((e) => e.p.message.value).join(',')}]` }] : [];
    return [...batch, ...broken];
  };

  /** Returns what must be sent again, and when. */
  const post = async (request: Request, path: string): Promise<Pending[]> => {
    try {
      const res = await fetch(`${base}${path}`, { method: 'POST', headers: request.headers, body: request.body });
      await res.arrayBuffer();
      unreachable = false;
      if (res.status === 429 || res.status === 503) {
        const wait = Number(res.headers.get('retry-after') ?? '1') * 1000;
        return request.items.map((p) => ({ ...p, at: Date.now() + wait }));
      }
      if (res.status === 400 || res.status === 401) refused += 1;
      else if (res.status !== 202) print(`demo: ${path} answered ${res.status}`);
      return [];
    } catch (error) {
      if (!unreachable) print(`demo: cannot reach the HTTP intake at ${base} (${error instanceof Error ? error.message : String(error)}); is seamwatch running with this config?`);
      unreachable = true;
      return request.items.map((p) => ({ ...p, at: Date.now() + 1_000 }));
    }
  };

  return {
    async send(due) {
      const requests: { request: Request; path: string }[] = [];
      for (const name of ['crm', 'billing', 'ticketing'] as const) {
        const items = due.filter((p) => p.topic === name);
        if (items.length > 0) for (const request of requestsFor(name, items)) requests.push({ request, path: sources[name].http!.path! });
      }
      const again: Pending[] = [];
      for (let i = 0; i < requests.length; i += CONCURRENCY) {
        const results = await Promise.all(requests.slice(i, i + CONCURRENCY).map(({ request, path }) => post(request, path)));
        again.push(...results.flat());
      }
      return again;
    },
    async close() {
      print(`demo: ${refused} request(s) refused with 400/401 (dead letters on purpose)`);
    },
  };
}
