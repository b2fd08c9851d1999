import type { Logger } from 'pino';
import type { BusinessTrace, BusinessTraceSink } from '../../domain/business-trace.ts';
import type { RunRecord } from '../../domain/records.ts';
import { eventCount, redeliveriesOf, type WorkflowRun } from '../../stitch/run.ts';
import { businessTrace } from '../../stitch/trace.ts';
import type { Flush, RecoveredPartitions, Stage } from '../stage.ts';

/** Runs remembered as exported, so an unchanged run handed out again (for its SLOs) is not sent twice. */
const MAX_REMEMBERED = 100_000;

/** What a run was exported as: a new verdict, a new event or a redelivery makes it worth sending again. */
function signatureOf(run: Readonly<WorkflowRun>): string {
  return `${run.state}|${eventCount(run)}|${redeliveriesOf(run).length}`;
}

/** Whether a run's record calls for an export: a verdict, or (if wanted) still open past its deadline. */
export function exportable(run: Pick<RunRecord, 'state'>, exportOpen: boolean): boolean {
  return run.state === 'completed' || run.state === 'failed' || run.state === 'compensated' || (exportOpen && run.state === 'deadline_missed');
}

/**
 * Hands the trace of each run that reached a verdict to the trace sink, once the store has the
 * flush that decided it. The traces are built at collect, from the same snapshot as the rows;
 * the sink only queues, so a trace backend that is down never holds a flush.
 */
export class TraceExportStage implements Stage {
  readonly name = 'traces';
  private readonly sink: BusinessTraceSink;
  private readonly runOf: (runId: string) => Readonly<WorkflowRun> | undefined;
  private readonly redelivered: () => Iterable<string>;
  private readonly exportOpen: boolean;
  private readonly logger: Logger;
  /** What each run was last exported as (state and events seen). */
  private readonly exported = new Map<string, string>();
  private readonly pending = new WeakMap<Flush, { traces: BusinessTrace[]; signatures: [string, string][] }>();

  constructor(options: {
    sink: BusinessTraceSink;
    runOf: (runId: string) => Readonly<WorkflowRun> | undefined;
    /** Runs that took a redelivery since last asked. */
    redelivered?: () => Iterable<string>;
    exportOpen: boolean;
    logger: Logger;
  }) {
    this.sink = options.sink;
    this.runOf = options.runOf;
    this.redelivered = options.redelivered ?? (() => []);
    this.exportOpen = options.exportOpen;
    this.logger = options.logger;
  }

  collect(flush: Flush): void {
    const traces: BusinessTrace[] = [];
    const signatures: [string, string][] = [];
    // Runs whose rows changed, and runs that only took a redelivery (no new row, a richer trace).
    const candidates = new Set(flush.batch.runs.map((r) => r.runId));
    for (const runId of this.redelivered()) candidates.add(runId);
    for (const runId of candidates) {
      const run = this.runOf(runId);
      if (!run || !exportable(run, this.exportOpen)) continue;
      const signature = signatureOf(run);
      if (this.exported.get(runId) === signature) continue;
      try {
        traces.push(businessTrace(run));
      } catch (error) {
        // A trace is a view: failing to draw one must never fail the flush that stores the run.
        this.logger.error({ err: error, correlationId: run.correlationId, workflow: run.definition.name }, 'could not build the business trace of a run');
        continue;
      }
      signatures.push([runId, signature]);
    }
    if (traces.length > 0) this.pending.set(flush, { traces, signatures });
  }

  /** After the store: a flush that fails there carries its runs into the next one, which exports them. */
  async deliver(flush: Flush): Promise<void> {
    const pending = this.pending.get(flush);
    if (!pending) return;
    this.pending.delete(flush);
    for (const [runId, signature] of pending.signatures) this.remember(runId, signature);
    this.sink.offer(pending.traces);
  }

  /**
   * Runs rebuilt after a restart or a rebalance are handed out again; those already at the
   * verdict the store holds were exported by whoever decided it.
   */
  onRecover(recovered: RecoveredPartitions): void {
    for (const stored of recovered.runs) {
      const run = this.runOf(stored.runId);
      if (run && run.state === stored.state && exportable(stored, this.exportOpen)) this.remember(stored.runId, signatureOf(run));
    }
  }

  private remember(runId: string, signature: string): void {
    this.exported.delete(runId);
    this.exported.set(runId, signature);
    if (this.exported.size > MAX_REMEMBERED) this.exported.delete(this.exported.keys().next().value!);
  }
}
