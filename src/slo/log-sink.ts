import type { Logger } from 'pino';
import { formatDuration } from '../config/duration.ts';
import type { SloAlertSignal, SloAlertSink } from './types.ts';

/** Until the alerting layer takes them, SLO alert signals are logged (the engine counts them). */
export class LoggingSloAlertSink implements SloAlertSink {
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  signal(signal: SloAlertSignal): void {
    const fields = {
      slo: signal.slo,
      workflow: signal.workflow,
      owner: signal.owner,
      tier: signal.tier,
      severity: signal.severity,
      windows: `${formatDuration(signal.longWindowMs)}/${formatDuration(signal.shortWindowMs)}`,
      burnRate: Number(signal.burnRate.toFixed(2)),
      factor: Number(signal.factor.toFixed(2)),
      budgetRemaining: Number(signal.budgetRemaining.toFixed(4)),
      at: new Date(signal.at).toISOString(),
    };
    if (signal.kind === 'firing') this.logger.warn(fields, 'SLO burn-rate alert firing');
    else this.logger.info(fields, 'SLO burn-rate alert resolved');
  }
}
