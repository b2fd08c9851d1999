import { randomUUID } from 'node:crypto';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { SeamwatchConfig } from './config/schema.ts';
import { KafkaCollector } from './collectors/kafka/kafka-collector.ts';
import { HttpCollector } from './collectors/http/http-collector.ts';
import type { DeadLetterSink } from './domain/dead-letter.ts';
import type { OffsetCommitter } from './collectors/intake.ts';
import { HttpServer } from './http/server.ts';
import { runAll } from './base/shutdown.ts';
import { IngestPipeline } from './pipeline/pipeline.ts';
import { storeFromConfig } from './store/build.ts';
import type { Store } from './domain/store.ts';
import { PipelineMetrics } from './telemetry/pipeline-metrics.ts';
import { businessTraceExporter } from './telemetry/traces/build.ts';
import type { BusinessTraceExporter } from './telemetry/traces/exporter.ts';
import { SelfTracing } from './telemetry/self/self-tracing.ts';
import { tracedReceiver } from './alerts/receivers/traced-receiver.ts';
import { SloEngine } from './slo/engine.ts';
import { SloLead, leadsGroup } from './slo/lead.ts';
import { GroupWatermark } from './slo/group-watermark.ts';
import { SLO_PARTITION } from './alerts/lifecycle/alert-book.ts';
import { AlertEngine } from './alerts/engine.ts';
import { AlertDispatcher } from './alerts/dispatcher.ts';
import { buildReceivers } from './alerts/receivers/build.ts';
import { stormOptions } from './alerts/receivers/config.ts';
import { MISSING_TOPICS_HINT } from './collectors/kafka/topics.ts';
import { runPrecedenceRules } from './alerts/inhibit/run-precedence.ts';
import { buildRoutingTree, matchRoutes } from './alerts/routing/tree.ts';
import { InMemoryNotificationLog } from './alerts/notify/notification-log.ts';
import { PartitionedAlertState } from './alerts/partition-state.ts';
import { SilenceRegistry } from './alerts/silences/silence-store.ts';
import { SloMetrics } from './slo/metrics.ts';
import type { SloAlertSink } from './slo/types.ts';
import { AlertHistoryRecorder } from './alerts/history-recorder.ts';
import { DETECTOR_KINDS } from './alerts/detectors/config.ts';
import { sloDefinitionRecord } from './slo/definition-record.ts';
import { detectorKinds } from './scorecard/incidents.ts';
import type { ScorecardSources } from './scorecard/gather.ts';
import { scorecardPage } from './scorecard/page.ts';
import { ScorecardSender } from './scorecard/sender.ts';
import { smtpTransport } from './scorecard/mail.ts';
import type { ControlStore } from './domain/controls.ts';
import { PauseBook } from './controls/paging-pauses.ts';
import { AuditTrail } from './controls/audit.ts';
import { replayDeadLetters } from './controls/dlq-replay.ts';
import { backfill } from './controls/backfill.ts';
import { KafkaRepublisher } from './collectors/kafka/republisher.ts';
import { DEFAULT_TOKEN_NAME, resolveTokens } from './http/config.ts';

export interface SeamwatchOptions {
  config: SeamwatchConfig;
  logger: Logger;
  registry?: Registry;
  store?: Store & ControlStore;
  /** Where SLO burn alerts go; the alert engine by default (tests may record them instead). */
  sloSink?: SloAlertSink;
}

/**
 * The main job, assembled. Starts sinks before sources (store, HTTP, alert dispatcher, then
 * Kafka) and stops in the reverse order, running every step and reporting all errors.
 */
export class Seamwatch {
  readonly config: SeamwatchConfig;
  readonly store: Store & ControlStore;
  readonly registry: Registry;
  /** The paging kill switch per team or workflow, shared by every instance through the store. */
  readonly pauses: PauseBook;
  /** Every control action, as a log line and a row. */
  readonly audit: AuditTrail;
  /** Puts replayed dead letters back on their topics; undefined without Kafka. */
  private readonly republisher: KafkaRepublisher | undefined;
  /** Undefined when no source has `transport: kafka`. */
  readonly collector: KafkaCollector | undefined;
  /** Undefined when no source has `transport: http`. */
  readonly httpCollector: HttpCollector | undefined;
  /** The ingest chain the collector feeds. */
  readonly pipeline: IngestPipeline;
  readonly http: HttpServer;
  readonly slo: SloEngine;
  /** Whether this instance pages the group's SLO burn (the holder of Kafka partition 0). */
  readonly sloLead: SloLead;
  /** How far every partition of the group has stored its verdicts: SLOs are evaluated up to there. */
  private readonly groupWatermark: GroupWatermark;
  readonly alerts: AlertEngine;
  /** Routes alerts to receivers; undefined when no `routes:` are configured (alerts are only logged). */
  readonly dispatcher: AlertDispatcher | undefined;
  readonly sloSink: SloAlertSink;
  /** Alerts and the notification log, saved to the store so a restart does not page again. */
  readonly alertState: PartitionedAlertState;
  /** Silences made through the API; the dispatcher reads them at each flush; saved with the alert state. */
  readonly silences = new SilenceRegistry();
  /** What each receiver was told; saved with the alert state. */
  readonly notificationLog = new InMemoryNotificationLog();
  /** Alert changes and notifications written as rows for dashboards, off the alerting path. */
  readonly alertHistory: AlertHistoryRecorder;
  /** Exports the traces of runs that reached a verdict; undefined without `telemetry.traces`. */
  readonly traceExporter: BusinessTraceExporter | undefined;
  /** seamwatch's own spans through the OpenTelemetry Node SDK; off unless an endpoint is configured. */
  readonly selfTracing: SelfTracing;
  /** Sends the weekly scorecards; undefined unless `scorecard.smtp` and teams are configured. */
  readonly scorecards: ScorecardSender | undefined;
  private readonly logger: Logger;
  private stopping: Promise<void> | undefined;
  private markFailed: (error: Error) => void = () => undefined;
  /**
   * Settles when a part gave up and seamwatch can no longer do its job (the store unreachable
   * past pipeline.recoveryDeadline): the caller stops it and exits with an error.
   */
  readonly failed: Promise<Error> = new Promise((resolve) => (this.markFailed = resolve));

  constructor(options: SeamwatchOptions) {
    const { config, logger } = options;
    this.config = config;
    this.logger = logger;
    this.registry = options.registry ?? new Registry();
    collectDefaultMetrics({ register: this.registry, prefix: 'seamwatch_' });
    const metrics = new PipelineMetrics(this.registry, config.sources.map((s) => s.name));
    this.selfTracing = new SelfTracing(config.telemetry.self, logger.child({ component: 'self-tracing' }));
    const tracer = this.selfTracing.tracer;
    this.store = options.store ?? storeFromConfig(config.store, logger.child({ component: 'clickhouse' }));
    const notificationLog = this.notificationLog;
    this.pauses = new PauseBook({ store: this.store, logger: logger.child({ component: 'pauses' }) });
    this.audit = new AuditTrail({ store: this.store, logger: logger.child({ component: 'audit' }) });
    this.republisher = config.kafka ? new KafkaRepublisher(config.kafka) : undefined;
    this.dispatcher = config.routes
      ? new AlertDispatcher({
          log: notificationLog,
          silences: () => this.silences.list(),
          pauses: () => this.pauses.active(),
          othersFiring: () => this.alertState.leadAlerts().filter((a) => a.state === 'firing'),
          tree: buildRoutingTree(config.routes),
          receivers: buildReceivers(config.receivers, { registry: this.registry, logger: logger.child({ component: 'receivers' }), externalUrl: externalUrl(config.alerting.traceUrlBase), isOpen: (receiver, fingerprint) => notificationLog.isOpen(receiver, fingerprint) }).map((r) =>
            this.selfTracing.enabled ? tracedReceiver(r, tracer) : r,
          ),
          inhibitRules: [...runPrecedenceRules(config.alerting.runPrecedence, config.detectors), ...config.inhibit_rules],
          timeIntervals: config.time_intervals,
          storms: stormOptions(config.receivers),
          alertsUrl: `${externalUrl(config.alerting.traceUrlBase)}/api/v1/alerts`,
          // Each instance sees only its partitions' alerts: a storm it finds clear is resolved by one
          // that holds them all, or once the others' saved alert state has none of it firing.
          stormsMayResolve: () => this.collector?.ownsEveryPartition() ?? true,
          stormsClearElsewhere: (receiver, buckets) => this.alertState.clearElsewhere(receiver, buckets),
          registry: this.registry,
          logger: logger.child({ component: 'dispatcher' }),
        })
      : undefined;
    const detectorKinds = new Map(DETECTOR_KINDS.flatMap((kind) => config.detectors[kind].map((d) => [d.name, kind] as const)));
    this.alertHistory = new AlertHistoryRecorder({ store: this.store, registry: this.registry, logger: logger.child({ component: 'alert-history' }), detectorKind: (name) => detectorKinds.get(name) ?? '' });
    notificationLog.onSent = this.alertHistory.notified;
    this.alerts = new AlertEngine({
      detectors: config.detectors,
      workflows: config.workflows,
      lifecycle: config.alerting,
      // Kept at least as long as the stitcher may rebuild a run (and re-judge its deadline).
      resolvedRetentionMs: Math.max(config.alerting.resolvedRetention, config.pipeline.runHorizon + config.pipeline.allowedLateness),
      stillOwed: (fingerprint) => this.notificationLog.isOpenAnywhere(fingerprint),
      registry: this.registry,
      logger: logger.child({ component: 'alerts' }),
      onChange: (change) => {
        this.alertHistory.change(change);
        this.dispatcher?.take(change);
        // A page owed or a resolve owed is saved at once, not at the next commit or periodic save.
        if (change.kind === 'firing' || change.kind === 'resolved') this.alertState?.persistence.saveSoon();
      },
    });
    this.alertState = new PartitionedAlertState({
      store: this.store,
      base: `alerts:${stateGroupOf(config)}`,
      alerts: this.alerts,
      log: notificationLog,
      silences: this.silences,
      dispatcher: this.dispatcher,
      logger: logger.child({ component: 'alert-state' }),
    });
    const traces = config.telemetry.traces;
    this.traceExporter = traces ? businessTraceExporter(traces, { registry: this.registry, logger: logger.child({ component: 'business-traces' }) }) : undefined;
    const traceExporter = this.traceExporter;
    const kafkaSources = config.sources.filter((s) => s.transport === 'kafka');
    const httpSources = config.sources.filter((s) => s.transport === 'http');
    const httpTopics = httpSources.map((s) => s.topic);
    const pipelineFor = ({ deadLetterSink, commit }: { deadLetterSink: DeadLetterSink; commit: OffsetCommitter }) =>
      new IngestPipeline({
        sources: config.sources,
        workflows: config.workflows,
        slos: config.slos,
        pipeline: config.pipeline,
        errors: config.detectors.errors,
        store: this.store,
        // HTTP deliveries have no topic to send to or commit in: their dead letters are in the store.
        deadLetterSink: { send: (letters) => deadLetterSink.send(letters.filter((l) => !httpTopics.includes(l.origin.topic))) },
        commit: (offsets) => commit(offsets.filter((o) => !httpTopics.includes(o.topic))),
        alwaysOwned: Object.fromEntries(httpTopics.map((t) => [t, [config.httpIntake.partition]])),
        metrics,
        alerts: this.alerts,
        ...(traceExporter && traces ? { traces: { sink: traceExporter, exportOpen: traces.exportOpen } } : {}),
        tracer,
        partitionState: {
          adopt: (partitions) => this.alertState.adopt(partitions),
          release: (partitions) => this.alertState.release(partitions),
          save: () => this.alertState.persistence.save(),
        },
        logger: logger.child({ component: 'pipeline' }),
      });
    let pipeline: IngestPipeline | undefined;
    this.collector =
      config.kafka && kafkaSources.length > 0
        ? new KafkaCollector({
            kafka: config.kafka,
            sources: kafkaSources,
            logLevel: config.log.level,
            logger,
            intake: (parts) => (pipeline = pipelineFor(parts)),
            onBackpressure: () => metrics.backpressureWaits.inc(),
            finalFlushDeadline: config.pipeline.finalFlushDeadline,
            tracer,
            recoveryDeadline: config.pipeline.recoveryDeadline,
            onFailure: (error) => this.fail(error),
            onAssigned: (assignment) => void this.sloLead.set(leadsGroup(assignment)),
            // Until the next assignment nobody knows who holds partition 0: the lead is handed over.
            onRevoked: () => void this.sloLead.set(false),
          })
        : undefined;
    pipeline ??= pipelineFor({ deadLetterSink: { send: async () => undefined }, commit: async () => undefined });
    this.httpCollector =
      httpSources.length > 0
        ? new HttpCollector({
            intakeConfig: config.httpIntake,
            sources: httpSources,
            intake: pipeline,
            logger,
            registry: this.registry,
            onBackpressure: () => metrics.backpressureWaits.inc(),
            finalFlushDeadline: config.pipeline.finalFlushDeadline,
            ...(this.selfTracing.enabled ? { tracer } : {}),
          })
        : undefined;
    this.pipeline = pipeline;
    const sloMetrics = new SloMetrics(this.registry);
    this.sloSink = options.sloSink ?? this.alerts;
    const collector = this.collector;
    this.groupWatermark = new GroupWatermark({
      store: this.store,
      group: stateGroupOf(config),
      // As the last flush was judged, for the partitions it speaks for: a partition taken over is
      // the previous owner's mark until it was rebuilt here and a flush since is stored.
      own: () => ({ watermark: this.pipeline.lastStoredWatermark, partitions: new Set([...(collector?.partitions ?? [])].filter((p) => this.pipeline.storedSinceRebuilt(p))) }),
      exists: (partition) => {
        const counts = [...(collector?.topicPartitionCounts.values() ?? [])];
        return counts.length === 0 || partition < Math.max(...counts);
      },
      logger: logger.child({ component: 'slo' }),
      heldBack: (ms) => sloMetrics.heldBackSeconds.set(ms / 1000),
    });
    this.slo = new SloEngine({
      slos: config.slos,
      store: this.store,
      // Evaluate only up to what the store holds for every partition of the group, less the
      // lateness still allowed for verdicts.
      eventTime: async () => (collector ? await this.groupWatermark.at() : this.pipeline.storedWatermark) - config.pipeline.allowedLateness,
      sink: this.sloSink,
      metrics: sloMetrics,
      logger: logger.child({ component: 'slo' }),
      evaluateEvery: config.pipeline.sloEvaluateEvery,
      // Where each SLO's evaluation got is saved beside the alert state, so a restart continues.
      stateKey: `slo:${stateGroupOf(config)}`,
      // Pages only once it is the group's SLO lead (start(), or the assignment of partition 0).
      leading: false,
    });
    this.sloLead = new SloLead({
      engine: this.slo,
      alerts: {
        adopt: () => this.alertState.adopt([SLO_PARTITION]),
        save: () => this.alertState.persistence.save(),
        release: () => this.alertState.release([SLO_PARTITION]),
      },
      logger: logger.child({ component: 'slo' }),
      leading: (on) => sloMetrics.lead.set(on ? 1 : 0),
      handOver: { store: this.store, key: `alerts:${stateGroupOf(config)}:slo-holder`, instance: randomUUID() },
    });
    const scorecardSources = scorecardSourcesOf(config, this.store);
    this.scorecards =
      config.scorecard?.smtp && config.scorecard.teams.length > 0
        ? new ScorecardSender({
            config: config.scorecard,
            sources: scorecardSources,
            transport: smtpTransport(config.scorecard.smtp),
            registry: this.registry,
            logger: logger.child({ component: 'scorecard' }),
          })
        : undefined;
    const { tokens, unset } = resolveTokens(config.api, process.env);
    if (unset.length > 0) logger.warn({ tokens: unset }, 'API tokens whose variables are not set are not accepted');
    const republisher = this.republisher;
    this.http = new HttpServer({
      apiTokens: tokens.filter((t) => t.name !== DEFAULT_TOKEN_NAME),
      controls: {
        pauses: this.pauses,
        audit: this.audit,
        store: this.store,
        known: {
          team: [...new Set([...config.workflows.map((w) => w.owner), ...config.slos.map((s) => s.owner)])].sort(),
          workflow: config.workflows.map((w) => w.name),
        },
        ...(republisher
          ? {
              replay: (query, progress) =>
                replayDeadLetters(
                  { store: this.store, sources: config.sources, contract: { maxFieldLength: config.pipeline.maxFieldLength, maxTimeAhead: config.pipeline.maxTimeAhead }, publish: (m) => republisher.send(m) },
                  query,
                  progress,
                ),
            }
          : {}),
        backfill: (query, progress) =>
          backfill({ store: this.store, config: { workflows: config.workflows, slos: config.slos, detectors: config.detectors, alerting: config.alerting, pipeline: config.pipeline }, logger: logger.child({ component: 'backfill' }) }, query, progress),
      },
      scorecardPage: scorecardPage(scorecardSources, config.scorecard),
      slo: this.slo,
      // The SLO lead's burn alerts are listed at every instance, as the store has them.
      alerts: { alerts: () => [...this.alerts.alerts(), ...this.alertState.leadAlerts()] },
      silences: this.silences,
      saveSilences: () => this.alertState.save(),
      apiToken: process.env[config.api.tokenEnv],
      apiTokenEnv: config.api.tokenEnv,
      protectReads: config.api.protectReads,
      workflows: config.workflows,
      receiversFor: receiversFor(config),
      ...config.http,
      registry: this.registry,
      store: this.store,
      ready: () => (this.collector?.ready ?? true) && (this.httpCollector?.ready ?? true),
      readiness: () => (this.collector && this.collector.missingTopics.length > 0 ? { missingTopics: this.collector.missingTopics, hint: MISSING_TOPICS_HINT } : {}),
      logger: logger.child({ component: 'http' }),
      ...(this.selfTracing.enabled ? { tracer } : {}),
    });
  }

  async start(): Promise<void> {
    this.selfTracing.start();
    await this.store.start();
    await this.store.writeSloDefinitions(this.config.slos.map(sloDefinitionRecord));
    this.alertHistory.start();
    await this.alertState.loadShared();
    this.traceExporter?.start();
    await this.pauses.start();
    await this.http.start();
    await this.dispatcher?.start();
    await this.httpCollector?.start();
    // Without Kafka there is no group to share the SLOs with: this instance pages them.
    if (!this.collector) await this.sloLead.set(true);
    await this.collector?.start();
    this.slo.start();
    if (this.collector && this.config.slos.length > 0) this.groupWatermark.start();
    this.alertState.start();
    this.scorecards?.start();
  }

  private fail(error: Error): void {
    this.markFailed(error);
  }

  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      const errors = await runAll(
        [
          { name: 'scorecards', run: async () => this.scorecards?.shutdown() },
          { name: 'slo lead', run: () => this.sloLead.shutdown() },
          { name: 'slo engine', run: () => this.slo.shutdown() },
          { name: 'http collector', run: async () => this.httpCollector?.shutdown() },
          { name: 'group watermark', run: () => this.groupWatermark.shutdown() },
          { name: 'kafka collector', run: async () => this.collector?.shutdown() },
          { name: 'alert dispatcher', run: async () => this.dispatcher?.shutdown() },
          { name: 'alert state', run: () => this.alertState.shutdown() },
          { name: 'alert history', run: () => this.alertHistory.shutdown() },
          { name: 'business traces', run: async () => this.traceExporter?.shutdown() },
          { name: 'http', run: () => this.http.shutdown() },
          { name: 'paging pauses', run: () => this.pauses.shutdown() },
          { name: 'dlq replay producer', run: async () => this.republisher?.shutdown() },
          { name: 'store', run: () => this.store.shutdown() },
          { name: 'self-tracing', run: () => this.selfTracing.shutdown() },
        ],
        this.logger,
      );
      if (errors.length > 0) throw new AggregateError(errors, 'seamwatch did not stop cleanly');
    })();
    return this.stopping;
  }
}

/** The receivers alerts with these labels are routed to, as the web view's alerts page shows them. */
function receiversFor(config: SeamwatchConfig): ((labels: Readonly<Record<string, string>>) => string[]) | undefined {
  if (!config.routes) return undefined;
  const tree = buildRoutingTree(config.routes);
  return (labels) => [...new Set(matchRoutes(tree, labels).map((r) => r.options.receiver).filter((r) => r !== ''))];
}

/** seamwatch's address as people reach it, taken from the trace links' base. */
function externalUrl(traceUrlBase: string): string {
  return URL.canParse(traceUrlBase) && /^https?:$/.test(new URL(traceUrlBase).protocol) ? new URL(traceUrlBase).origin : 'http://127.0.0.1:9470';
}

/** What the scorecard reads, from the configuration and the store. */
/** The name state documents are kept under: the consumer group, or "seamwatch" with no Kafka. */
export function stateGroupOf(config: SeamwatchConfig): string {
  return config.kafka?.groupId ?? 'seamwatch';
}

export function scorecardSourcesOf(config: SeamwatchConfig, store: Store): ScorecardSources {
  return {
    store,
    workflows: config.workflows,
    slos: config.slos,
    sources: config.sources,
    groupId: stateGroupOf(config),
    detectorKinds: detectorKinds(config.detectors),
    traceUrlBase: config.alerting.traceUrlBase,
  };
}
