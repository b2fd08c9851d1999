import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import protobuf from 'protobufjs';

/**
 * A local OTLP/HTTP trace receiver that decodes what arrives, the way a Collector would:
 * protobuf (`application/x-protobuf`, with the opentelemetry-proto schema from Maven Central,
 * see deploy/local/otlp-proto.sh) and JSON (`application/json`). Spans are flattened with their
 * resource and scope so tests can check IDs, parent links, times, attributes and events.
 */

export interface ReceivedEvent {
  name: string;
  timeUnixNano: bigint;
  attributes: Record<string, unknown>;
}

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, unknown>;
  events: ReceivedEvent[];
  status: { code: number; message: string };
  resource: Record<string, unknown>;
  scope: string;
  /** How it arrived. */
  encoding: 'protobuf' | 'json';
}

const REPO_ROOT = join(import.meta.dirname, '..', '..');
let requestType: protobuf.Type | undefined;

/** The ExportTraceServiceRequest message type, from the .proto files fetched once. */
function exportTraceServiceRequest(): protobuf.Type {
  if (requestType) return requestType;
  const root = execFileSync('bash', [join(REPO_ROOT, 'deploy/local/otlp-proto.sh'), 'install'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const proto = new protobuf.Root();
  proto.resolvePath = (_origin, target) => (target.startsWith('/') ? target : join(root, target));
  proto.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto', { keepCase: false });
  requestType = proto.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
  return requestType;
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly requests: { contentType: string; status: number }[] = [];
  /** The status to answer with: 200, or e.g. 503 to make the exporter retry. */
  answer = 200;
  private server: Server | undefined;

  async start(port = 0): Promise<void> {
    exportTraceServiceRequest();
    this.server = createServer((req, res) => {
      void this.handle(req).then(
        (status) => {
          res.writeHead(status, { 'content-type': req.headers['content-type'] === 'application/json' ? 'application/json' : 'application/x-protobuf' });
          res.end(status === 200 && req.headers['content-type'] === 'application/json' ? '{}' : undefined);
        },
        (error: unknown) => {
          res.writeHead(400, { 'content-type': 'text/plain' });
          res.end(String(error));
        },
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
  }

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/v1/traces`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  /** The spans of one trace, root first. */
  trace(traceId: string): ReceivedSpan[] {
    const spans = this.spans.filter((s) => s.traceId === traceId);
    return [...spans.filter((s) => s.parentSpanId === ''), ...spans.filter((s) => s.parentSpanId !== '')];
  }

  private async handle(req: IncomingMessage): Promise<number> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const contentType = String(req.headers['content-type'] ?? '');
    this.requests.push({ contentType, status: this.answer });
    if (req.method !== 'POST' || req.url !== '/v1/traces') return 404;
    if (this.answer !== 200) return this.answer;
    if (contentType === 'application/x-protobuf') {
      const type = exportTraceServiceRequest();
      const object = type.toObject(type.decode(body), { longs: String, enums: Number, defaults: false, arrays: true });
      this.spans.push(...flatten(object as OtlpRequest, 'protobuf'));
    } else if (contentType === 'application/json') {
      this.spans.push(...flatten(JSON.parse(body.toString('utf8')) as OtlpRequest, 'json'));
    } else {
      throw new Error(`unexpected content type "${contentType}"`);
    }
    return 200;
  }
}

interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}
interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
}
interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: {
      scope?: { name?: string };
      spans?: {
        traceId: string | Uint8Array;
        spanId: string | Uint8Array;
        parentSpanId?: string | Uint8Array;
        name: string;
        kind?: number;
        startTimeUnixNano: string | number;
        endTimeUnixNano: string | number;
        attributes?: OtlpKeyValue[];
        events?: { name: string; timeUnixNano: string | number; attributes?: OtlpKeyValue[] }[];
        status?: { code?: number; message?: string };
      }[];
    }[];
  }[];
}

/** OTLP/JSON carries IDs as hex; protobuf as bytes. */
function hex(id: string | Uint8Array | undefined): string {
  if (id === undefined) return '';
  return typeof id === 'string' ? id : Buffer.from(id).toString('hex');
}

function value(v: OtlpAnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(value);
  return undefined;
}

function attributes(list: OtlpKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, value(kv.value)]));
}

function flatten(request: OtlpRequest, encoding: 'protobuf' | 'json'): ReceivedSpan[] {
  return (request.resourceSpans ?? []).flatMap((rs) =>
    (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        traceId: hex(s.traceId),
        spanId: hex(s.spanId),
        parentSpanId: hex(s.parentSpanId),
        name: s.name,
        kind: s.kind ?? 0,
        startTimeUnixNano: BigInt(s.startTimeUnixNano),
        endTimeUnixNano: BigInt(s.endTimeUnixNano),
        attributes: attributes(s.attributes),
        events: (s.events ?? []).map((e) => ({ name: e.name, timeUnixNano: BigInt(e.timeUnixNano), attributes: attributes(e.attributes) })),
        status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
        resource: attributes(rs.resource?.attributes),
        scope: ss.scope?.name ?? '',
        encoding,
      })),
    ),
  );
}

/** Milliseconds since the epoch as OTLP's nanoseconds. */
export function nanos(ms: number): bigint {
  return BigInt(ms) * 1_000_000n;
}
