import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { SeamwatchConfig } from './config/schema.ts';
import { KafkaCollector } from './collectors/kafka/kafka-collector.ts';
import { HttpServer } from './http/server.ts';
import { runAll } from './lifecycle/shutdown.ts';
import { IngestPipeline } from './pipeline/ingest.ts';
import { ClickHouseStore } from './store/clickhouse/clickhouse-store.ts';
import type { Store } from './store/store.ts';
import { PipelineMetrics } from './telemetry/pipeline-metrics.ts';

export interface SeamwatchOptions {
  config: SeamwatchConfig;
  logger: Logger;
  registry?: Registry;
  store?: Store;
}

/**
 * The main job, assembled. Starts sinks before sources (store, HTTP, then Kafka) and stops in
 * the reverse order, running every step and reporting all errors.
 */
export class Seamwatch {
  readonly config: SeamwatchConfig;
  readonly store: Store;
  readonly registry: Registry;
  readonly collector: KafkaCollector;
  readonly http: HttpServer;
  private readonly logger: Logger;
  private stopping: Promise<void> | undefined;

  constructor(options: SeamwatchOptions) {
    const { config, logger } = options;
    this.config = config;
    this.logger = logger;
    this.registry = options.registry ?? new Registry();
    collectDefaultMetrics({ register: this.registry, prefix: 'seamwatch_process_' });
    const metrics = new PipelineMetrics(this.registry, config.sources.map((s) => s.name));
    const ch = config.store.clickhouse;
    this.store =
      options.store ??
      new ClickHouseStore({ ...ch, logger: logger.child({ component: 'clickhouse' }) });
    this.collector = new KafkaCollector({
      config,
      store: this.store,
      logger,
      pipeline: ({ deadLetterSink, commit }) =>
        new IngestPipeline({ config, store: this.store, deadLetterSink, commit, metrics, logger: logger.child({ component: 'pipeline' }) }),
      onBackpressure: () => metrics.backpressureWaits.inc(),
    });
    this.http = new HttpServer({
      ...config.http,
      registry: this.registry,
      store: this.store,
      ready: () => this.collector.ready,
      logger: logger.child({ component: 'http' }),
    });
  }

  async start(): Promise<void> {
    await this.store.start();
    await this.http.start();
    await this.collector.start();
  }

  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      const errors = await runAll(
        [
          { name: 'kafka collector', run: () => this.collector.shutdown() },
          { name: 'http', run: () => this.http.shutdown() },
          { name: 'store', run: () => this.store.shutdown() },
        ],
        this.logger,
      );
      if (errors.length > 0) throw new AggregateError(errors, 'seamwatch did not stop cleanly');
    })();
    return this.stopping;
  }
}
