import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { AlertEngine } from '../alerts/engine.ts';
import { DETECTOR_KINDS, type DetectorsConfig } from '../alerts/detectors/config.ts';
import type { AlertChange, LifecycleOptions } from '../alerts/lifecycle/alert-book.ts';
import { alertChangeRecord } from '../alerts/history-recorder.ts';
import type { ControlStore } from '../domain/controls.ts';
import type { Store } from '../domain/store.ts';
import type { WorkflowDefinition } from '../domain/workflow.ts';
import type { PipelineConfig } from '../pipeline/config.ts';
import { SloJudge } from '../slo/outcome.ts';
import type { SloDefinition } from '../slo/types.ts';
import { Stitcher } from '../stitch/stitcher.ts';

/** Today's config, as far as a backfill uses it. */
export interface BackfillConfig {
  workflows: readonly WorkflowDefinition[];
  slos: readonly SloDefinition[];
  detectors: DetectorsConfig;
  alerting: LifecycleOptions;
  pipeline: PipelineConfig;
}

export interface BackfillOptions {
  store: Pick<Store, 'write' | 'writeAlertRecords'> & Pick<ControlStore, 'eventsTouching'>;
  config: BackfillConfig;
  logger: Logger;
  now?: () => number;
}

export interface BackfillQuery {
  from: number;
  to: number;
  /** Most events loaded; a larger range is refused (split it). */
  maxEvents: number;
  /** Judge and count, write nothing. */
  dryRun?: boolean;
}

export interface BackfillReport {
  from: string;
  to: string;
  /** Stored events of every run touching the range, read back and stitched again. */
  events: number;
  runs: number;
  spans: number;
  /** SLO verdicts written (the minutes they fall in are recounted). */
  sloVerdicts: number;
  sloVerdictsBad: number;
  /** What today's detectors find in the range, recorded in alert_changes, never notified. */
  findings: { detector: string; kind: string; fingerprint: string; startsAt: string; summary: string }[];
}

export type BackfillPhase = { phase: 'read'; events: number } | { phase: 'stitched'; runs: number; verdicts: number } | { phase: 'written' };

/**
 * Re-evaluates a past range with today's config, from what is stored: every run with an event
 * in the range is stitched again from all its stored events (today's workflows), judged again
 * (today's SLOs: verdicts rewritten, their minutes recounted, so budgets and the scorecard read
 * the new numbers), and today's detectors are run over the same events. Their findings are
 * recorded as alert changes, but they go to no alert book or dispatcher: nothing is paged for
 * what is already over, and the live alert state is not touched.
 */
export async function backfill(options: BackfillOptions, query: BackfillQuery, progress?: (p: BackfillPhase) => void): Promise<BackfillReport> {
  const { store, config } = options;
  const now = (options.now ?? Date.now)();
  if (!(query.from < query.to)) throw new BackfillRefused('--from must be before --to');
  if (query.to > now - config.pipeline.allowedLateness) throw new BackfillRefused(`--to must be in the past by at least pipeline.allowedLateness; live evaluation owns the present`);
  const events = await store.eventsTouching({ from: query.from, to: query.to, limit: query.maxEvents + 1 });
  if (events.length > query.maxEvents) throw new BackfillRefused(`more than ${query.maxEvents} stored events touch this range: split it into smaller ranges`);
  progress?.({ phase: 'read', events: events.length });

  const stitcher = new Stitcher(config.workflows, config.pipeline, new SloJudge(config.slos, config.pipeline.allowedLateness));
  const changes: AlertChange[] = [];
  const alerts = new AlertEngine({
    detectors: config.detectors,
    workflows: config.workflows,
    lifecycle: config.alerting,
    registry: new Registry(),
    logger: options.logger.child({ component: 'backfill-detectors' }),
    onChange: (change) => changes.push(change),
  });
  // Event time only: the wall clock of this replay is the same instant for every event, so the
  // watermark is the events' own; at the end it is moved past the range so deadlines pass.
  events.sort((a, b) => a.time - b.time);
  for (const event of events) {
    if (stitcher.apply(event, now) && alerts.hasEventDetectors) alerts.onEvent(event, stitcher.watermarkAt(now));
  }
  const newest = events.length > 0 ? events[events.length - 1]!.time : query.to;
  // Past every deadline of a run that started in the range, and past the range itself.
  const end = Math.max(query.to, newest) + maxDeadline(config.workflows) + config.pipeline.allowedLateness;
  // Once every partition is quiet for idleAdvanceAfter the watermark runs on with the wall
  // clock from the newest event: a tick that far ahead brings it to `end`, so deadlines pass.
  const after = now + config.pipeline.idleAdvanceAfter + Math.max(0, end - newest) + 1;
  stitcher.tick(after);
  const output = stitcher.drain(after);
  const watermark = stitcher.watermarkAt(after);
  alerts.onRunRecords(output.runs, watermark);
  alerts.tick(watermark);
  const findings = changes.filter((c) => c.alert.startsAt >= query.from && c.alert.startsAt < query.to);
  progress?.({ phase: 'stitched', runs: output.runs.length, verdicts: output.sloOutcomes.length });

  if (!query.dryRun) {
    await store.write({ events: [], runs: output.runs, spans: output.spans, sloOutcomes: output.sloOutcomes, deadLetters: [] });
    const kinds = new Map(DETECTOR_KINDS.flatMap((kind) => config.detectors[kind].map((d) => [d.name, kind] as const)));
    if (findings.length > 0) await store.writeAlertRecords({ changes: findings.map((c) => alertChangeRecord(c, (d) => kinds.get(d) ?? '', now)), notifications: [] });
    progress?.({ phase: 'written' });
  }
  return {
    from: new Date(query.from).toISOString(),
    to: new Date(query.to).toISOString(),
    events: events.length,
    runs: new Set(output.runs.map((r) => r.runId)).size,
    spans: output.spans.length,
    sloVerdicts: output.sloOutcomes.length,
    sloVerdictsBad: output.sloOutcomes.filter((o) => !o.good).length,
    findings: findings.map((c) => ({
      detector: c.alert.labels['detector'] ?? '',
      kind: c.kind,
      fingerprint: c.alert.fingerprint,
      startsAt: new Date(c.alert.startsAt).toISOString(),
      summary: c.alert.annotations['summary'] ?? '',
    })),
  };
}

function maxDeadline(workflows: readonly WorkflowDefinition[]): number {
  return workflows.reduce((max, w) => Math.max(max, w.deadline), 0);
}

/** A backfill that cannot be done as asked (a range in the future, too large): a 400. */
export class BackfillRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackfillRefused';
  }
}
