/**
 * The operator's controls from the command line: a client of a running instance's control API
 * (so the action is audited under the token's name, reaches every instance through the store,
 * and works with the embedded store, which only the running process can open).
 */

export interface ControlTarget {
  url: string;
  /** The environment variable holding the API token. */
  tokenEnv: string;
}

export interface ControlIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

function headers(target: ControlTarget, io: ControlIo): Record<string, string> | string {
  const token = io.env[target.tokenEnv];
  if (!token) return `${target.tokenEnv} is not set: the control API needs the API token`;
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
}

async function call(target: ControlTarget, io: ControlIo, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown } | number> {
  const auth = method === 'GET' ? {} : headers(target, io);
  if (typeof auth === 'string') {
    io.err(auth);
    return 2;
  }
  try {
    const res = await fetch(new URL(path, target.url), { method, headers: auth, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, body: await res.json().catch(() => null) };
  } catch (error) {
    io.err(`cannot reach seamwatch at ${target.url}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

/** Prints an API refusal; returns the exit code (2 for a 4xx, 1 otherwise). */
function refused(io: ControlIo, status: number, body: unknown): number {
  const b = (body ?? {}) as { error?: string; problems?: string[] };
  io.err(`${status}: ${b.error ?? 'failed'}${b.problems ? `\n  - ${b.problems.join('\n  - ')}` : ''}`);
  return status >= 400 && status < 500 ? 2 : 1;
}

export function scopeOf(options: { team?: string; workflow?: string }): { scope: 'team' | 'workflow'; name: string } | string {
  if ((options.team === undefined) === (options.workflow === undefined)) return 'give one of --team <team> or --workflow <workflow>';
  return options.team !== undefined ? { scope: 'team', name: options.team } : { scope: 'workflow', name: options.workflow! };
}

export async function pause(target: ControlTarget, io: ControlIo, options: { team?: string; workflow?: string; reason: string; for?: string; until?: string }): Promise<number> {
  const scope = scopeOf(options);
  if (typeof scope === 'string') return io.err(scope), 2;
  const result = await call(target, io, 'POST', '/api/v1/pauses', { ...scope, reason: options.reason, ...(options.for ? { duration: options.for } : {}), ...(options.until ? { until: options.until } : {}) });
  if (typeof result === 'number') return result;
  if (result.status !== 201) return refused(io, result.status, result.body);
  const p = result.body as { scope: string; name: string; until: string | null; by: string };
  io.out(`paging paused for ${p.scope} ${p.name}${p.until ? ` until ${p.until}` : ' until resumed'} (by ${p.by}); alerts are still recorded`);
  return 0;
}

export async function resume(target: ControlTarget, io: ControlIo, options: { team?: string; workflow?: string }): Promise<number> {
  const scope = scopeOf(options);
  if (typeof scope === 'string') return io.err(scope), 2;
  const result = await call(target, io, 'DELETE', `/api/v1/pauses/${encodeURIComponent(scope.scope)}/${encodeURIComponent(scope.name)}`);
  if (typeof result === 'number') return result;
  if (result.status !== 200) return refused(io, result.status, result.body);
  io.out(`paging resumed for ${scope.scope} ${scope.name}: alerts still firing are paged at their group's next flush`);
  return 0;
}

export async function listPauses(target: ControlTarget, io: ControlIo, json: boolean): Promise<number> {
  const result = await call(target, io, 'GET', '/api/v1/pauses');
  if (typeof result === 'number') return result;
  if (result.status !== 200) return refused(io, result.status, result.body);
  const pauses = (result.body as { pauses: { scope: string; name: string; active: boolean; until: string | null; reason: string; by: string; at: string }[] }).pauses;
  if (json) return io.out(JSON.stringify(pauses, null, 2)), 0;
  const active = pauses.filter((p) => p.active);
  if (active.length === 0) io.out('paging is not paused anywhere');
  for (const p of active) io.out(`${p.scope} ${p.name}: paused since ${p.at} by ${p.by}, ${p.until ? `until ${p.until}` : 'until resumed'} — ${p.reason}`);
  return 0;
}

export async function listAudit(target: ControlTarget, io: ControlIo, options: { since: string; limit: string; json?: boolean }): Promise<number> {
  const result = await call(target, io, 'GET', `/api/v1/audit?since=${encodeURIComponent(options.since)}&limit=${encodeURIComponent(options.limit)}`);
  if (typeof result === 'number') return result;
  if (result.status !== 200) return refused(io, result.status, result.body);
  const rows = (result.body as { audit: { at: string; actor: string; action: string; args: unknown; outcome: string; detail: string }[] }).audit;
  if (options.json) return io.out(JSON.stringify(rows, null, 2)), 0;
  for (const r of rows) io.out(`${r.at}  ${r.actor}  ${r.action}  ${r.outcome}  ${JSON.stringify(r.args)}${r.detail ? `  ${r.detail}` : ''}`);
  return 0;
}

/** Posts a long action and follows its NDJSON progress; prints the final report. */
export async function streamed(target: ControlTarget, io: ControlIo, path: string, body: unknown, progressLine: (p: any) => string, reportLines: (r: any) => string[], json: boolean): Promise<number> {
  const auth = headers(target, io);
  if (typeof auth === 'string') return io.err(auth), 2;
  let res: Response;
  try {
    res = await fetch(new URL(path, target.url), { method: 'POST', headers: auth, body: JSON.stringify(body) });
  } catch (error) {
    io.err(`cannot reach seamwatch at ${target.url}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  if (res.status !== 200 || !res.body) return refused(io, res.status, await res.json().catch(() => null));
  let buffered = '';
  let code = 1;
  const decoder = new TextDecoder();
  const take = (line: string) => {
    if (line.trim() === '') return;
    const message = JSON.parse(line) as { started?: string; progress?: unknown; done?: unknown; error?: string; refused?: boolean };
    if (message.progress !== undefined) io.err(progressLine(message.progress));
    else if (message.done !== undefined) {
      code = 0;
      if (json) io.out(JSON.stringify(message.done, null, 2));
      else for (const l of reportLines(message.done)) io.out(l);
    } else if (message.error !== undefined) {
      io.err(message.error);
      code = message.refused ? 2 : 1;
    }
  };
  for await (const chunk of res.body) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      take(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  }
  take(buffered);
  return code;
}

export function replayReportLines(r: { topic: string; read: number; nowDecode: number; replayed: number; stillFailing: Record<string, number>; truncated: boolean }): string[] {
  const failing = Object.entries(r.stillFailing).sort((a, b) => b[1] - a[1]);
  return [
    `${r.topic}: ${r.read} dead letters read, ${r.nowDecode} now decode, ${r.replayed} put back on the topic`,
    ...(failing.length === 0 ? ['still failing: none'] : [`still failing: ${failing.reduce((n, [, c]) => n + c, 0)}`, ...failing.map(([reason, n]) => `  ${reason}: ${n}`)]),
    ...(r.truncated ? ['(the limit was reached: run again with a later --since or a larger --limit for the rest)'] : []),
  ];
}

export function backfillReportLines(r: { from: string; to: string; events: number; runs: number; sloVerdicts: number; sloVerdictsBad: number; findings: { detector: string; kind: string; startsAt: string; summary: string }[] }): string[] {
  return [
    `${r.from} – ${r.to}: ${r.events} stored events, ${r.runs} runs stitched again with today's config`,
    `SLO verdicts rewritten: ${r.sloVerdicts} (${r.sloVerdictsBad} bad); their minutes recounted`,
    `detector findings (recorded, not paged): ${r.findings.length}`,
    ...r.findings.slice(0, 50).map((f) => `  ${f.startsAt}  ${f.detector}  ${f.kind}  ${f.summary}`),
    ...(r.findings.length > 50 ? [`  … and ${r.findings.length - 50} more (--json for all)`] : []),
  ];
}
