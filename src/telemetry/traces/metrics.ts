import { Counter, Gauge, type Registry } from 'prom-client';

export type SpanDropReason = 'queue_full' | 'export_failed' | 'shutdown';

/** What became of business-trace spans; one summary count per reason, never a line per span. */
export class TraceExportMetrics {
  readonly traces: Counter;
  readonly exported: Counter;
  readonly dropped: Counter<'reason'>;
  readonly queued: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.traces = new Counter({ name: 'seamwatch_business_traces_total', help: 'Workflow runs handed to the business-trace exporter (at their verdict, or open past their deadline).', registers });
    this.exported = new Counter({ name: 'seamwatch_business_trace_spans_exported_total', help: 'Business-trace spans the trace backend accepted.', registers });
    this.dropped = new Counter({
      name: 'seamwatch_business_trace_spans_dropped_total',
      help: 'Business-trace spans dropped instead of holding intake: queue_full (the backend is slow or down and maxQueueSpans are waiting), export_failed (refused, or still failing after the retries), shutdown (left at stop).',
      labelNames: ['reason'],
      registers,
    });
    this.queued = new Gauge({ name: 'seamwatch_business_trace_spans_queued', help: 'Business-trace spans waiting for export.', registers });
  }
}
