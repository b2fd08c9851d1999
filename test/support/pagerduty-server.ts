/**
 * A contract test server that behaves like PagerDuty's Events API v2 `POST /v2/enqueue`:
 * validates events strictly (the documented fields, and nothing else), answers 202 or 400 the
 * way PagerDuty does, keeps alert state per dedup key, records every request, and can be told to
 * answer the next requests with 429 / 5xx / 400, late, or not at all.
 * Spec: https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ (and /overview/).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type ScriptStep =
  /** Answer with this status; 429 and 5xx may carry a Retry-After header. */
  | { status: 429 | 500 | 502 | 503 | 504; retryAfter?: string }
  /** Answer 400 with these errors, whatever the event. */
  | { status: 400; errors?: string[] }
  /** Wait, then answer as PagerDuty would (the event is processed even if the client left). */
  | { delayMs: number }
  /** Close the connection without answering. */
  | { hangUp: true };

export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  /** The parsed JSON body, or undefined when it was not JSON. */
  body: unknown;
  /** What was answered; 0 for a hang-up. */
  status: number;
  /** A script step (status, delay or hang-up) shaped this answer. */
  scripted: boolean;
  /** Set when the event passed validation and was applied (or dropped) like PagerDuty would. */
  processed: boolean;
}

export type AlertState = 'triggered' | 'acknowledged' | 'resolved';

/** PagerDuty's view of one dedup key: alert state, and every event that reached it. */
export interface IncidentRecord {
  dedupKey: string;
  routingKey: string;
  state: AlertState;
  /** Alerts opened for this key: a trigger after a resolve opens a new one. */
  alertsOpened: number;
  events: { action: string; applied: boolean; at: number }[];
}

export const ENQUEUE_PATH = '/v2/enqueue';
const MAX_BODY_BYTES = 512 * 1024;
const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const ACTIONS = ['trigger', 'acknowledge', 'resolve'];
const TRIGGER_FIELDS = new Set(['routing_key', 'event_action', 'dedup_key', 'payload', 'images', 'links', 'client', 'client_url']);
const FOLLOW_UP_FIELDS = new Set(['routing_key', 'event_action', 'dedup_key']);
const PAYLOAD_FIELDS = new Set(['summary', 'source', 'severity', 'timestamp', 'component', 'group', 'class', 'custom_details']);
const LINK_FIELDS = new Set(['href', 'text']);
const IMAGE_FIELDS = new Set(['src', 'href', 'alt']);

export class PagerDutyContractServer {
  readonly requests: RecordedRequest[] = [];
  private readonly incidents = new Map<string, IncidentRecord>();
  private readonly steps: ScriptStep[] = [];
  private readonly keyedSteps = new Map<string, ScriptStep[]>();
  private fallback: ScriptStep | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}${ENQUEUE_PATH}`;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /**
   * The next requests, one step each, before the server goes back to behaving normally. With a
   * dedup key, only requests for that key take these steps (they go before the general ones).
   */
  script(steps: ScriptStep[], only?: { dedupKey: string }): void {
    if (!only) {
      this.steps.push(...steps);
      return;
    }
    const queue = this.keyedSteps.get(only.dedupKey) ?? [];
    queue.push(...steps);
    this.keyedSteps.set(only.dedupKey, queue);
  }

  /** A step for every request once the script is used up (undefined: behave normally again). */
  always(step: ScriptStep | undefined): void {
    this.fallback = step;
  }

  incident(dedupKey: string): IncidentRecord | undefined {
    return this.incidents.get(dedupKey);
  }

  /** Requests PagerDuty would have taken: answered 202. */
  accepted(): RecordedRequest[] {
    return this.requests.filter((r) => r.status === 202);
  }

  async waitForRequests(count: number, timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.requests.length < count) {
      if (Date.now() > until) throw new Error(`expected ${count} requests, got ${this.requests.length}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const record: RecordedRequest = { at: Date.now(), method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw, body: parseJson(raw), status: 0, scripted: false, processed: false };
      this.requests.push(record);
      const dedupKey = isObject(record.body) && typeof record.body.dedup_key === 'string' ? record.body.dedup_key : undefined;
      const step = (dedupKey === undefined ? undefined : this.keyedSteps.get(dedupKey)?.shift()) ?? this.steps.shift() ?? this.fallback;
      if (step && 'delayMs' in step) {
        record.scripted = true;
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.answer(record, res, size);
        }, step.delayMs);
        this.timers.add(timer);
        return;
      }
      if (step) {
        record.scripted = true;
        if ('hangUp' in step) {
          req.socket.destroy();
          return;
        }
        if (step.status === 400) {
          record.status = 400;
          return send(res, 400, { status: 'invalid event', message: 'Event object is invalid', errors: step.errors ?? ['Scripted rejection'] });
        }
        record.status = step.status;
        const headers: Record<string, string> = step.retryAfter === undefined ? {} : { 'retry-after': step.retryAfter };
        return send(res, step.status, step.status === 429 ? { status: 'throttle event', message: 'Requests for this service are arriving too quickly. Please retry later.' } : { status: 'error', message: 'Internal error' }, headers);
      }
      this.answer(record, res, size);
    });
  }

  /** What PagerDuty itself answers. */
  private answer(record: RecordedRequest, res: ServerResponse, size: number): void {
    if (record.method !== 'POST') return this.finish(record, res, 405, { status: 'invalid request', message: 'Method not allowed' });
    if (record.path !== ENQUEUE_PATH) return this.finish(record, res, 404, { status: 'invalid request', message: 'Not found' });
    if (size > MAX_BODY_BYTES) return this.finish(record, res, 413, { status: 'invalid request', message: 'Request entity too large (512 KB at most)' });
    const contentType = String(record.headers['content-type'] ?? '');
    const errors = /^application\/json\s*(;|$)/i.test(contentType) ? validateEnqueueBody(record.body, record.raw) : [`Content-Type must be application/json (was "${contentType}")`];
    if (errors.length > 0) return this.finish(record, res, 400, { status: 'invalid event', message: 'Event object is invalid', errors });
    const event = record.body as { routing_key: string; event_action: string; dedup_key?: string };
    const dedupKey = event.dedup_key ?? randomUUID().replaceAll('-', '');
    this.apply(event.routing_key, event.event_action, dedupKey, record.at);
    record.processed = true;
    this.finish(record, res, 202, { status: 'success', message: 'Event processed', dedup_key: dedupKey });
  }

  private finish(record: RecordedRequest, res: ServerResponse, status: number, body: unknown): void {
    record.status = status;
    if (!res.destroyed) send(res, status, body);
  }

  /** PagerDuty's alert de-duplication: follow-ups apply to an open alert of the same routing key, else are dropped. */
  private apply(routingKey: string, action: string, dedupKey: string, at: number): void {
    const existing = this.incidents.get(dedupKey);
    const open = existing !== undefined && existing.state !== 'resolved' && existing.routingKey === routingKey;
    if (action === 'trigger') {
      if (open) existing.events.push({ action, applied: true, at });
      else if (existing) Object.assign(existing, { routingKey, state: 'triggered', alertsOpened: existing.alertsOpened + 1 }).events.push({ action, applied: true, at });
      else this.incidents.set(dedupKey, { dedupKey, routingKey, state: 'triggered', alertsOpened: 1, events: [{ action, applied: true, at }] });
      return;
    }
    if (!existing) {
      this.incidents.set(dedupKey, { dedupKey, routingKey, state: 'resolved', alertsOpened: 0, events: [{ action, applied: false, at }] });
      return;
    }
    existing.events.push({ action, applied: open, at });
    if (open) existing.state = action === 'resolve' ? 'resolved' : 'acknowledged';
  }
}

/** Every reason PagerDuty would reject this body, in its own wording where known. Empty: valid. */
export function validateEnqueueBody(body: unknown, raw = ''): string[] {
  if (body === undefined) return [raw.trim() ? 'Malformed JSON' : 'Event is empty'];
  if (!isObject(body)) return ['Event must be a JSON object'];
  const errors: string[] = [];
  const action = body.event_action;
  if (action === undefined || action === '') errors.push("'event_action' is missing or blank");
  else if (typeof action !== 'string' || !ACTIONS.includes(action)) errors.push(`'event_action' is invalid (must be one of: ${ACTIONS.join(', ')})`);

  const key = body.routing_key;
  if (key === undefined || key === '') errors.push("'routing_key' is missing or blank");
  else if (typeof key !== 'string') errors.push("'routing_key' must be a string");
  else if (key.length !== 32) errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");

  const dedup = body.dedup_key;
  if (dedup !== undefined) {
    if (typeof dedup !== 'string' || dedup === '') errors.push("'dedup_key' must be a non-empty string");
    else if (dedup.length > 255) errors.push("'dedup_key' is too long (255 characters at most)");
  } else if (action === 'acknowledge' || action === 'resolve') {
    errors.push(`'dedup_key' is required for ${action} events`);
  }

  // Which other fields belong depends on the action: without a known one there is nothing more to check.
  if (typeof action !== 'string' || !ACTIONS.includes(action)) return errors;
  const allowed = action === 'trigger' ? TRIGGER_FIELDS : FOLLOW_UP_FIELDS;
  for (const field of Object.keys(body)) if (!allowed.has(field)) errors.push(`'${field}' is not allowed${action === 'trigger' ? '' : ` in ${action} events`}`);
  if (action !== 'trigger') return errors;

  errors.push(...payloadErrors(body.payload));
  errors.push(...listErrors(body.links, 'links', LINK_FIELDS, (link, at) => (isUrl(link.href) ? [] : [`'${at}.href' must be a URL`])));
  errors.push(...listErrors(body.images, 'images', IMAGE_FIELDS, (image, at) => (isUrl(image.src, true) ? [] : [`'${at}.src' must be an https URL`])));
  for (const field of ['client', 'client_url'] as const) {
    if (body[field] !== undefined && typeof body[field] !== 'string') errors.push(`'${field}' must be a string`);
  }
  if (typeof body.client_url === 'string' && !isUrl(body.client_url)) errors.push("'client_url' must be a URL");
  return errors;
}

function payloadErrors(payload: unknown): string[] {
  if (payload === undefined) return ["'payload' is missing or blank"];
  if (!isObject(payload)) return ["'payload' must be an object"];
  const errors: string[] = [];
  for (const field of Object.keys(payload)) if (!PAYLOAD_FIELDS.has(field)) errors.push(`'payload.${field}' is not allowed`);
  const summary = payload.summary;
  if (typeof summary !== 'string' || summary.trim() === '') errors.push("'payload.summary' is missing or blank");
  else if (summary.length > 1024) errors.push("'payload.summary' is too long (1024 characters at most)");
  if (typeof payload.source !== 'string' || payload.source.trim() === '') errors.push("'payload.source' is missing or blank");
  if (payload.severity === undefined || payload.severity === '') errors.push("'payload.severity' is missing or blank");
  else if (typeof payload.severity !== 'string' || !SEVERITIES.includes(payload.severity)) errors.push(`'payload.severity' is invalid (must be one of: ${SEVERITIES.join(', ')})`);
  if (payload.timestamp !== undefined && !isIsoTimestamp(payload.timestamp)) errors.push("'payload.timestamp' is not a valid ISO 8601 timestamp");
  for (const field of ['component', 'group', 'class'] as const) {
    if (payload[field] !== undefined && typeof payload[field] !== 'string') errors.push(`'payload.${field}' must be a string`);
  }
  if (payload.custom_details !== undefined && !isObject(payload.custom_details)) errors.push("'payload.custom_details' must be an object");
  return errors;
}

function listErrors(value: unknown, name: string, fields: Set<string>, check: (item: Record<string, unknown>, at: string) => string[]): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return [`'${name}' must be an array`];
  return value.flatMap((item, i) => {
    const at = `${name}[${i}]`;
    if (!isObject(item)) return [`'${at}' must be an object`];
    const errors = Object.keys(item).filter((f) => !fields.has(f)).map((f) => `'${at}.${f}' is not allowed`);
    for (const [field, v] of Object.entries(item)) if (fields.has(field) && typeof v !== 'string') errors.push(`'${at}.${field}' must be a string`);
    return [...errors, ...check(item, at)];
  });
}

/** ISO 8601 date-time with a zone: 2024-03-04T09:00:00Z, ...00.315+0000, ...00+01:00. */
function isIsoTimestamp(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})$/.exec(value);
  if (!match) return false;
  const zone = match[2]!.length === 5 ? `${match[2]!.slice(0, 3)}:${match[2]!.slice(3)}` : match[2]!;
  return !Number.isNaN(Date.parse(`${match[1]}${zone}`));
}

function isUrl(value: unknown, httpsOnly = false): boolean {
  if (typeof value !== 'string' || !URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return httpsOnly ? protocol === 'https:' : protocol === 'https:' || protocol === 'http:';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
