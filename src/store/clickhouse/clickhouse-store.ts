import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import type { Recovery, RecoveryQuery, SloRange, Store, StoreBatch, Trace } from '../../domain/store.ts';
import { MIGRATIONS, migrationTable } from './migrations.ts';
import { clusterDatabase, clusterMigrationTable, clusterStatements } from './cluster-ddl.ts';
import { Readable } from 'node:stream';
import { deadLetterLine, eventValues, runValues, spanValues, eventFromRow, eventRecordFromRow, redeliveryFromRow, redeliveryLine, runFromRow, sloOutcomeLine, sloRunOutcomeLine, spanFromRow } from './rows.ts';
import type { EventRecord, RunRecord, SloOutcomeRecord, SpanRecord } from '../../domain/records.ts';
import type { Counts, MinuteCounts } from '../../domain/slo-counts.ts';
import type { WorkflowEvent } from '../../domain/event.ts';
import type { AlertRecords, SloDefinitionRecord } from '../../domain/alert-records.ts';
import { alertChangeLine, notificationLine, sloDefinitionLine } from './alert-rows.ts';
import { ident, int, list, quote } from './sql.ts';
import type { DeadLetterCount, FailureMode, ReportClaim, StepLatency, WeekRange, WorkflowRunStats } from '../../domain/week-stats.ts';
import * as week from './week-queries.ts';
import * as slo from './slo-queries.ts';
import * as controls from './control-queries.ts';
import type { AuditRecord, ControlStore, PagingPause, StoredDeadLetter } from '../../domain/controls.ts';
import * as browse from './browse-queries.ts';
import type { DeadLetterPage, DeadLetterQuery, RunPage, RunQuery, RunSloVerdict } from '../../domain/browse.ts';
import { appendAll } from '../../base/append.ts';
import { FailureLog, retry } from '../../base/retry.ts';
import { isRetryableStoreError } from '../store-errors.ts';
import { closeEngineClient, createEngineClient, describeEngine, rowsPerInsert, type ClickHouseEngine, type JsonFormat, type RawInsert } from './engine.ts';
import { EVENT_COLUMNS, RUN_COLUMNS, SPAN_COLUMNS, eventRow, runRow, spanRow } from './binary-rows.ts';
import { encodeRowBinary, type RowBinaryWriter } from './row-binary.ts';

/** A server (`url`, …) or the embedded engine (`embeddedPath`): the same store on either. */
export type ClickHouseStoreOptions = { database: string; logger: Logger } & (
  | { url: string; username: string; password: string; requestTimeout: number; cluster?: string | undefined; embeddedPath?: undefined }
  | { embeddedPath: string }
);

/** How a hot table's rows are written: its column list, and a row in RowBinary and in JSONEachRow. */
interface RowCodec<T> {
  columns: string;
  binary: (w: RowBinaryWriter, record: T) => void;
  /** A JSONCompactEachRow line, values in the order of `columns`. */
  values: (record: T) => string;
}
const EVENTS: RowCodec<EventRecord> = { columns: EVENT_COLUMNS, binary: eventRow, values: eventValues };
const RUNS: RowCodec<RunRecord> = { columns: RUN_COLUMNS, binary: runRow, values: runValues };
const SPANS: RowCodec<SpanRecord> = { columns: SPAN_COLUMNS, binary: spanRow, values: spanValues };

/** Rows per chunk of an insert body: large enough for few writes, small enough to stay flat. */
const LINES_PER_CHUNK = 2_000;

/**
 * Encodes rows lazily in chunks. One string per chunk, joined in one pass: appending every
 * line to one string builds a rope that costs more to flatten than it took to build.
 */
function* encodeInChunks<T>(records: readonly T[], line: (record: T) => string): Generator<Buffer> {
  for (let i = 0; i < records.length; i += LINES_PER_CHUNK) {
    const end = Math.min(records.length, i + LINES_PER_CHUNK);
    const lines = new Array<string>(end - i);
    for (let j = i; j < end; j++) lines[j - i] = line(records[j]!);
    yield Buffer.from(lines.join(''));
  }
}

/** IN lists are sent in slices so that a large recovery never builds one giant query. */
const IN_SLICE = 2_000;
/** How long start() asks a server again that fails in passing. */
const START_DEADLINE_MS = 120_000;

export class ClickHouseStore implements Store, ControlStore {
  readonly kind: 'clickhouse' | 'embedded';
  /** Where the data is, for messages to a person. */
  readonly location: string;
  private readonly client: ClickHouseClient;
  private readonly rawInsert: RawInsert | undefined;
  private readonly db: string;
  /** The cluster the tables live on (Distributed over replicated tables), or none. */
  readonly cluster: string | undefined;
  private readonly logger: Logger;
  private closed = false;
  private lastDocumentVersion = 0;
  private lastVersion = 0;

  constructor(options: ClickHouseStoreOptions) {
    this.db = options.database;
    this.logger = options.logger;
    ident(this.db);
    const engine: ClickHouseEngine =
      options.embeddedPath !== undefined
        ? { kind: 'embedded', path: options.embeddedPath }
        : {
            kind: 'clickhouse',
            url: options.url,
            username: options.username,
            password: options.password,
            requestTimeout: options.requestTimeout,
            cluster: options.cluster,
          };
    this.kind = engine.kind;
    this.cluster = options.embeddedPath === undefined ? options.cluster : undefined;
    if (this.cluster !== undefined) ident(this.cluster);
    this.location = describeEngine(engine);
    ({ client: this.client, rawInsert: this.rawInsert } = createEngineClient(engine));
  }

  private table(name: string): string {
    return `${ident(this.db)}.${ident(name)}`;
  }

  /**
   * Creates or migrates the schema. A server that fails in passing (not up yet, a timeout: on a
   * cluster just started, the first ON CLUSTER statement can take longer than a request may) is
   * asked again, every statement being idempotent, for up to `deadlineMs`; an error that says the
   * schema or the credentials are wrong fails at once. The embedded engine is not retried.
   */
  async start(deadlineMs = START_DEADLINE_MS): Promise<void> {
    if (this.kind === 'embedded') return this.applySchema();
    const failures = new FailureLog((error, attempt, waitMs) =>
      this.logger.warn({ err: error, attempt, waitMs, store: this.location }, 'the store does not take the schema yet; retrying'),
    );
    // keepAlive: at start nothing else may hold the process open yet (the HTTP server comes later).
    await retry(() => this.applySchema(), { baseMs: 500, maxMs: 10_000, deadlineMs, isRetryable: isRetryableStoreError, onRetry: failures.onRetry, keepAlive: true });
    if (failures.recovered()) this.logger.info({ store: this.location }, 'the store took the schema');
  }

  private async applySchema(): Promise<void> {
    const { cluster } = this;
    if (cluster === undefined) {
      await this.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${ident(this.db)}` });
      await this.client.command({ query: migrationTable(this.db) });
    } else if (!(await this.hasMigrationTable())) {
      // ON CLUSTER waits for every node: only when there is something to create, so that an
      // instance restarting while a replica is down starts without it.
      await this.client.command({ query: clusterDatabase(this.db, cluster) });
      await this.client.command({ query: clusterMigrationTable(this.db, cluster) });
    }
    const applied = new Set(
      (await this.rows<{ version: number }>(`SELECT version FROM ${this.table('schema_migrations')}`)).map((r) => Number(r.version)),
    );
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      for (const statement of migration.statements(this.db)) {
        for (const query of cluster === undefined ? [statement] : clusterStatements(statement, cluster)) await this.client.command({ query });
      }
      await this.client.insert({
        table: this.table('schema_migrations'),
        values: [{ version: migration.version, name: migration.name, applied_at: Math.floor(Date.now() / 1000) }],
        format: 'JSONEachRow',
      });
      this.logger.info({ version: migration.version, migration: migration.name, database: this.db }, 'applied migration');
    }
  }

  private async hasMigrationTable(): Promise<boolean> {
    const [row] = await this.rows<{ n: string }>(
      `SELECT count() AS n FROM system.tables WHERE database = ${quote(this.db)} AND name = 'schema_migrations'`,
    );
    return Number(row?.n) > 0;
  }

  async write(batch: StoreBatch): Promise<void> {
    const inserts: Promise<unknown>[] = [];
    const insert = <T>(name: string, records: readonly T[], line: (record: T) => string) => {
      if (records.length > 0) inserts.push(this.insertLines(name, records, line));
    };
    const hot = <T>(name: string, records: readonly T[], codec: RowCodec<T>) => {
      if (records.length > 0) inserts.push(this.insertRows(name, records, codec));
    };
    hot('events', batch.events, EVENTS);
    hot('runs', batch.runs, RUNS);
    hot('spans', batch.spans, SPANS);
    insert('dead_letters', batch.deadLetters, deadLetterLine);
    insert('redeliveries', batch.redeliveries ?? [], redeliveryLine);
    if (batch.sloOutcomes.length > 0) inserts.push(this.writeSloOutcomes(batch.sloOutcomes));
    // Wait for every insert before reporting: a rejected one leaves others running otherwise.
    const results = await Promise.allSettled(inserts);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  /**
   * Writes verdicts, then recounts every minute they touch: the minute each run counts at now,
   * and every minute it was counted at before (a run whose due time moved leaves one). The
   * minute index (slo_outcomes) is written before the verdicts (slo_run_outcomes), so that a
   * verdict that can win is always found by the recount of its minute.
   */
  private async writeSloOutcomes(outcomes: StoreBatch['sloOutcomes']): Promise<void> {
    const newest = new Map<string, SloOutcomeRecord>();
    for (const o of outcomes) {
      const key = `${o.slo}\u0000${o.runId}`;
      const seen = newest.get(key);
      if (!seen || o.version >= seen.version) newest.set(key, o);
    }
    const records = [...newest.values()];
    const before = await this.countedMinutes(records);
    await this.insertLines('slo_outcomes', records, sloOutcomeLine);
    await this.insertLines('slo_run_outcomes', records, (o) => sloRunOutcomeLine(o, before.get(`${o.slo}\u0000${o.runId}`) ?? []));
    const minutes = new Map<string, Set<number>>();
    for (const o of records) {
      const set = minutes.get(o.slo) ?? new Set<number>();
      set.add(Math.floor(o.due / 60_000));
      for (const m of before.get(`${o.slo}\u0000${o.runId}`) ?? []) set.add(m);
      minutes.set(o.slo, set);
    }
    await this.recountMinutes(minutes);
  }

  /** Every minute these runs were counted at, over all stored versions, by SLO and run. */
  private async countedMinutes(records: readonly SloOutcomeRecord[]): Promise<Map<string, number[]>> {
    const bySlo = new Map<string, string[]>();
    for (const o of records) {
      const runIds = bySlo.get(o.slo);
      if (runIds) runIds.push(o.runId);
      else bySlo.set(o.slo, [o.runId]);
    }
    const out = new Map<string, number[]>();
    for (const [slo, runIds] of bySlo) {
      for (let i = 0; i < runIds.length; i += IN_SLICE) {
        const rows = await this.rows<{ run_id: string; minutes: number[] }>(
          `SELECT run_id, groupUniqArrayArray(counted_minutes) AS minutes FROM ${this.table('slo_run_outcomes')}
           WHERE slo = ${quote(slo)} AND run_id IN ${list(runIds.slice(i, i + IN_SLICE))} GROUP BY run_id`,
        );
        for (const r of rows) out.set(`${slo}\u0000${r.run_id}`, r.minutes.map(Number));
      }
    }
    return out;
  }

  /**
   * Recomputes slo_minutes rows for these SLO minutes: the runs ever counted in a minute (the
   * index) whose newest verdict is still in it. A minute left with no run gets a zero row.
   */
  async recountMinutes(minutes: ReadonlyMap<string, ReadonlySet<number>>): Promise<void> {
    const wanted = [...minutes].filter(([, set]) => set.size > 0);
    if (wanted.length === 0) return;
    const filter = (column: string) => wanted.map(([slo, set]) => `(slo = ${quote(slo)} AND ${column} IN ${list([...set])})`).join(' OR ');
    const rows = await this.rows<{ slo: string; at_minute: number; good: string; total: string }>(
      `SELECT slo, at_minute, sum(is_good) AS good, count() AS total FROM (
         SELECT slo, run_id, argMax(minute, version) AS at_minute, argMax(good, version) AS is_good
         FROM ${this.table('slo_run_outcomes')}
         WHERE (slo, run_id) IN (SELECT slo, run_id FROM ${this.table('slo_outcomes')} WHERE ${filter('minute')})
         GROUP BY slo, run_id
       ) WHERE ${filter('at_minute')} GROUP BY slo, at_minute`,
    );
    const counted = new Map(rows.map((r) => [`${r.slo}\u0000${Number(r.at_minute)}`, r]));
    const version = this.nextVersion();
    const lines: string[] = [];
    for (const [slo, set] of wanted) {
      for (const minute of set) {
        const row = counted.get(`${slo}\u0000${minute}`);
        lines.push(`${JSON.stringify({ slo, minute, good: Number(row?.good ?? 0), total: Number(row?.total ?? 0), version })}\n`);
      }
    }
    await this.insertLines('slo_minutes', lines, (line) => line);
  }

  /** Row versions that grow even when two writes fall in the same millisecond. */
  private nextVersion(): number {
    this.lastVersion = Math.max(Date.now() * 1_000, this.lastVersion + 1);
    return this.lastVersion;
  }

  sloMinutes(ranges: readonly SloRange[]): Promise<Map<string, MinuteCounts[]>> {
    return slo.sloMinutes((q) => this.rows(q), this.table('slo_minutes'), ranges);
  }

  sloCounts(ranges: readonly SloRange[]): Promise<Map<string, Counts>> {
    return slo.sloCounts((q) => this.rows(q), this.table('slo_minutes'), ranges);
  }

  sloSeries(range: SloRange, bucketMinutes: number): Promise<MinuteCounts[]> {
    return slo.sloSeries((q) => this.rows(q), this.table('slo_minutes'), range, bucketMinutes);
  }

  /**
   * The hot tables (events, runs, spans): RowBinary to the server, which parses it for a
   * fraction of JSON's cost on both sides; JSONCompactEachRow handed over as bytes to the
   * embedded engine, which takes no binary format through chdb.
   */
  private async insertRows<T>(table: string, records: readonly T[], codec: RowCodec<T>): Promise<void> {
    if (this.rawInsert) return this.insertLines(table, records, codec.values, codec.columns, 'JSONCompactEachRow');
    await this.drain(
      this.client.exec({
        query: `INSERT INTO ${this.table(table)} (${codec.columns}) FORMAT RowBinary`,
        values: Readable.from(encodeRowBinary(records, codec.binary)),
      }),
    );
  }

  private async insertLines<T>(table: string, records: readonly T[], line: (record: T) => string, columns?: string, format: JsonFormat = 'JSONEachRow'): Promise<void> {
    const size = rowsPerInsert(this.kind);
    if (records.length <= size) return this.insertStatement(table, records, line, columns, format);
    for (let i = 0; i < records.length; i += size) await this.insertStatement(table, records.slice(i, i + size), line, columns, format);
  }

  private async insertStatement<T>(table: string, records: readonly T[], line: (record: T) => string, columns: string | undefined, format: JsonFormat): Promise<void> {
    if (this.rawInsert) {
      if (records.length === 0) return;
      return this.rawInsert(`${this.db}.${table}`, columns, Buffer.concat([...encodeInChunks(records, line)]), format);
    }
    await this.drain(
      this.client.exec({
        query: `INSERT INTO ${this.table(table)}${columns ? ` (${columns})` : ''} FORMAT ${format}`,
        values: Readable.from(encodeInChunks(records, line)),
      }),
    );
  }

  private async drain(exec: ReturnType<ClickHouseClient['exec']>): Promise<void> {
    const result = await exec;
    // The response is empty for an insert; drain it so the socket goes back to the pool.
    result.stream.resume();
    await new Promise<void>((resolve, reject) => {
      result.stream.on('end', resolve);
      result.stream.on('error', reject);
    });
  }

  async eventTimeReached(partitions: number[] | null): Promise<number | null> {
    const partitionFilter = partitions ? `partition IN ${list(partitions)}` : '1';
    const [reached] = await this.rows<{ t: string; n: string }>(
      `SELECT min(t) AS t, count() AS n FROM (
         SELECT topic, partition, max(event_time_ms) AS t FROM ${this.table('events')} WHERE ${partitionFilter} GROUP BY topic, partition
       )`,
    );
    return reached && Number(reached.n) > 0 ? Number(reached.t) : null;
  }

  async recover(query: RecoveryQuery): Promise<Recovery> {
    const partitionFilter = query.partitions ? `partition IN ${list(query.partitions)}` : '1';
    const maxEventTime = await this.eventTimeReached(query.partitions);
    if (maxEventTime === null) return { events: [], runs: [], maxEventTime: null };

    const unfinished = await this.rows<{ correlation_id: string }>(
      `SELECT correlation_id FROM (
         SELECT run_id, correlation_id, state FROM ${this.table('runs')}
         WHERE ${partitionFilter} AND started_at_ms >= ${int(Math.max(0, maxEventTime - query.runHorizon))}
         ORDER BY version DESC LIMIT 1 BY run_id
       ) WHERE state IN ('open', 'failed', 'deadline_missed')`,
    );
    const recent = await this.rows<{ correlation_id: string }>(
      `SELECT DISTINCT correlation_id FROM ${this.table('events')}
       WHERE ${partitionFilter} AND event_time_ms >= ${int(Math.max(0, maxEventTime - query.holdHorizon))}`,
    );
    // Nothing committed (-1): every stored event of the partition is "at or past" it. Reading
    // them all would load the whole history; runs older than the horizon are given up anyway.
    const horizonStart = int(Math.max(0, maxEventTime - query.runHorizon));
    const replayConditions = query.replayFrom.map((o) =>
      BigInt(o.offset) < 0n
        ? `(topic = ${quote(o.topic)} AND partition = ${int(o.partition)} AND event_time_ms >= ${horizonStart})`
        : `(topic = ${quote(o.topic)} AND partition = ${int(o.partition)} AND offset >= ${int(Number(o.offset))})`,
    );
    const replayed =
      replayConditions.length === 0
        ? []
        : await this.rows<{ correlation_id: string }>(
            `SELECT DISTINCT correlation_id FROM ${this.table('events')} WHERE ${replayConditions.join(' OR ')}`,
          );
    // In order of need: unfinished runs, runs that will be read again, steps that may wait for a trigger.
    const ids = [...new Set([...unfinished, ...replayed, ...recent].map((r) => r.correlation_id))];
    const events: Recovery['events'] = [];
    const runs: Recovery['runs'] = [];
    const maxEvents = query.maxEvents ?? Number.POSITIVE_INFINITY;
    let read = 0;
    // Read in slices of IDs, so that no one query or answer holds the whole recovery.
    for (; read < ids.length && events.length < maxEvents; read += IN_SLICE) {
      const slice = list(ids.slice(read, read + IN_SLICE));
      const eventRows = await this.rows(
        `SELECT ${EVENT_COLUMNS} FROM ${this.table('events')} WHERE correlation_id IN ${slice} ORDER BY event_time_ms LIMIT 1 BY source, event_id`,
      );
      appendAll(events, eventRows.map(eventFromRow));
      const runRows = await this.rows<{ run_id: string; state: string; version: string; deadline_missed: number | string }>(
        `SELECT run_id, state, version, deadline_missed FROM ${this.table('runs')} WHERE correlation_id IN ${slice} ORDER BY version DESC LIMIT 1 BY run_id`,
      );
      appendAll(
        runs,
        runRows.map((r) => ({ runId: r.run_id, state: r.state as Recovery['runs'][number]['state'], version: Number(r.version), deadlineMissed: Number(r.deadline_missed) === 1 })),
      );
    }
    const leftOut = Math.max(0, ids.length - read);
    if (leftOut > 0) return { events, runs, maxEventTime, leftOut };
    return { events, runs, maxEventTime };
  }

  async trace(correlationId: string): Promise<Trace> {
    const id = quote(correlationId);
    const [runs, spans, events, redeliveries] = await Promise.all([
      this.rows(`SELECT ${RUN_COLUMNS} FROM ${this.table('runs')} WHERE correlation_id = ${id} ORDER BY version DESC LIMIT 1 BY run_id`),
      this.rows(`SELECT ${SPAN_COLUMNS} FROM ${this.table('spans')} WHERE correlation_id = ${id} ORDER BY version DESC LIMIT 1 BY run_id, step`),
      this.rows(`SELECT ${EVENT_COLUMNS} FROM ${this.table('events')} WHERE correlation_id = ${id} ORDER BY event_time_ms LIMIT 1 BY source, event_id`),
      this.rows(
        `SELECT correlation_id, source, event_id, topic, partition, offset, received_at_ms FROM ${this.table('redeliveries')}
         WHERE correlation_id = ${id} ORDER BY received_at_ms LIMIT 1 BY source, event_id, topic, partition, offset`,
      ),
    ]);
    return {
      correlationId,
      runs: runs.map(runFromRow).sort((a, b) => a.startedAt - b.startedAt),
      spans: spans.map(spanFromRow).sort((a, b) => a.startAt - b.startAt || a.endAt - b.endAt),
      events: events.map(eventRecordFromRow),
      redeliveries: redeliveries.map(redeliveryFromRow),
    };
  }

  runs(query: RunQuery): Promise<RunPage> {
    return browse.runs((q) => this.rows(q), this.table('runs'), RUN_COLUMNS, query);
  }

  deadLetters(query: DeadLetterQuery): Promise<DeadLetterPage> {
    return browse.deadLetters((q) => this.rows(q), this.table('dead_letters'), query);
  }

  runSloVerdicts(runIds: readonly string[], slos: readonly string[]): Promise<RunSloVerdict[]> {
    return browse.runSloVerdicts((q) => this.rows(q), this.table('slo_run_outcomes'), runIds, slos);
  }

  async eventsOfTypes(types: readonly { source: string; type: string }[], partitions: number[] | null, since: number): Promise<WorkflowEvent[]> {
    if (types.length === 0) return [];
    const typeFilter = types.map((t) => `(source = ${quote(t.source)} AND type = ${quote(t.type)})`).join(' OR ');
    const partitionFilter = partitions ? `partition IN ${list(partitions)}` : '1';
    const rows = await this.rows(
      `SELECT ${EVENT_COLUMNS} FROM ${this.table('events')}
       WHERE (${typeFilter}) AND ${partitionFilter} AND event_time_ms >= ${int(Math.max(0, Math.floor(since)))}
       ORDER BY event_time_ms LIMIT 1 BY source, event_id`,
    );
    return rows.map(eventFromRow);
  }

  async saveDocuments(docs: readonly { key: string; doc: string }[]): Promise<void> {
    if (docs.length === 0) return;
    // Versions must grow even when two saves fall in the same millisecond.
    const base = Math.max(Date.now() * 1_000, this.lastDocumentVersion + 1);
    this.lastDocumentVersion = base + docs.length;
    await this.insertLines('state_documents', docs.map((d, i) => ({ ...d, version: base + i })), (d) => `${JSON.stringify(d)}\n`);
  }

  async loadDocuments(keys: readonly string[]): Promise<Map<string, string>> {
    if (keys.length === 0) return new Map();
    const rows = await this.rows<{ key: string; doc: string }>(
      `SELECT key, doc FROM ${this.table('state_documents')} WHERE key IN ${list([...keys])} ORDER BY version DESC LIMIT 1 BY key`,
    );
    return new Map(rows.map((r) => [r.key, r.doc]));
  }

  async writeAlertRecords(records: AlertRecords): Promise<void> {
    const inserts: Promise<void>[] = [];
    if (records.changes.length > 0) inserts.push(this.insertLines('alert_changes', records.changes, alertChangeLine));
    if (records.notifications.length > 0) inserts.push(this.insertLines('notifications', records.notifications, notificationLine));
    const failed = (await Promise.allSettled(inserts)).find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  async writeSloDefinitions(definitions: readonly SloDefinitionRecord[]): Promise<void> {
    if (definitions.length === 0) return;
    const version = Date.now();
    await this.insertLines('slo_definitions', definitions, (d) => sloDefinitionLine(d, version));
  }

  async documentsWithPrefix(prefix: string): Promise<Map<string, string>> {
    const rows = await this.rows<{ key: string; doc: string }>(
      `SELECT key, doc FROM ${this.table('state_documents')} WHERE startsWith(key, ${quote(prefix)}) ORDER BY version DESC LIMIT 1 BY key`,
    );
    return new Map(rows.map((r) => [r.key, r.doc]));
  }

  workflowRuns(workflows: readonly string[], range: WeekRange): Promise<WorkflowRunStats[]> {
    return week.workflowRuns((q) => this.rows(q), this.table('runs'), workflows, range);
  }

  slowSteps(workflows: readonly string[], range: WeekRange, limit: number): Promise<StepLatency[]> {
    return week.slowSteps((q) => this.rows(q), this.table('spans'), workflows, range, limit);
  }

  failureModes(workflows: readonly string[], range: WeekRange, limit: number): Promise<FailureMode[]> {
    return week.failureModes((q) => this.rows(q), this.table('spans'), workflows, range, limit);
  }

  deadLetterCounts(topics: readonly string[], range: WeekRange): Promise<DeadLetterCount[]> {
    return week.deadLetterCounts((q) => this.rows(q), this.table('dead_letters'), topics, range);
  }

  async addReportClaims(claims: readonly ReportClaim[]): Promise<void> {
    if (claims.length > 0) await this.insertLines('report_claims', claims, week.claimLine);
  }

  reportClaims(key: string): Promise<ReportClaim[]> {
    return week.reportClaims((q) => this.rows(q), this.table('report_claims'), key);
  }

  pagingPauses(): Promise<PagingPause[]> {
    return controls.pagingPauses((q) => this.rows(q), this.table('paging_pauses'));
  }

  async writePagingPause(pause: PagingPause): Promise<void> {
    await this.insertLines('paging_pauses', [pause], (p) => controls.pagingPauseLine(p, this.nextVersion()));
  }

  async writeAudit(record: AuditRecord): Promise<void> {
    await this.insertLines('control_audit', [record], controls.auditLine);
  }

  audit(query: { since: number; limit: number }): Promise<AuditRecord[]> {
    return controls.audit((q) => this.rows(q), this.table('control_audit'), query);
  }

  /** Every stored event (once each) of the correlation IDs with an event in [from, to), oldest first: what a backfill stitches again. */
  async eventsTouching(range: { from: number; to: number; limit: number }): Promise<WorkflowEvent[]> {
    const rows = await this.rows(
      `SELECT ${EVENT_COLUMNS} FROM ${this.table('events')}
       WHERE correlation_id IN (
         SELECT DISTINCT correlation_id FROM ${this.table('events')}
         WHERE event_time_ms >= ${int(Math.max(0, Math.floor(range.from)))} AND event_time_ms < ${int(Math.max(0, Math.floor(range.to)))}
       )
       ORDER BY event_time_ms LIMIT 1 BY source, event_id LIMIT ${int(range.limit)}`,
    );
    return rows.map(eventFromRow);
  }

  deadLettersToReplay(query: { topic: string; since: number; limit: number }): Promise<StoredDeadLetter[]> {
    return controls.deadLetters((q) => this.rows(q), this.table('dead_letters'), query);
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    const result = await this.client.ping();
    return result.success;
  }

  /** Runs a query and returns its rows (JSONEachRow). For the store's own queries and tests. */
  async rows<T = Record<string, unknown>>(query: string): Promise<T[]> {
    const result = await this.client.query({ query, format: 'JSONEachRow' });
    return result.json<T>();
  }

  /** Runs a query and returns ClickHouse's JSON answer, column names and types included (what Grafana's plugin reads). */
  async queryJson(query: string): Promise<{ meta: { name: string; type: string }[]; data: Record<string, unknown>[] }> {
    const json = await (await this.client.query({ query, format: 'JSON' })).json<Record<string, unknown>>();
    return { meta: json.meta ?? [], data: json.data };
  }

  async command(query: string): Promise<void> {
    await this.client.command({ query });
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await closeEngineClient(this.client, this.kind);
  }
}
