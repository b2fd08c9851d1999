import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { DeliveryReport, Notification } from '../notify/receiver.ts';
import type { ManagedReceiver } from './managed-receiver.ts';

/** Correlation IDs named in one notification, at most this many. */
const MAX_CORRELATION_IDS = 50;

/**
 * A receiver whose every notification is a CLIENT span (self-tracing): the receiver, the group,
 * how many alerts fire and resolve, their correlation IDs, and what was not delivered.
 */
export function tracedReceiver(receiver: ManagedReceiver, tracer: Tracer): ManagedReceiver {
  return {
    name: receiver.name,
    start: () => receiver.start(),
    shutdown: () => receiver.shutdown(),
    notify: (notification: Notification): Promise<DeliveryReport> =>
      tracer.startActiveSpan(`notify ${receiver.name}`, { kind: SpanKind.CLIENT }, async (span) => {
        if (span.isRecording()) {
          const ids = new Set([...notification.firing, ...notification.resolved].map((a) => a.annotations['correlation_id']).filter((id): id is string => Boolean(id)));
          span.setAttributes({
            'seamwatch.receiver': receiver.name,
            'seamwatch.group_key': notification.groupKey,
            'seamwatch.notify.reason': notification.reason,
            'seamwatch.alerts.firing': notification.firing.length,
            'seamwatch.alerts.resolved': notification.resolved.length,
            'seamwatch.correlation_ids': [...ids].slice(0, MAX_CORRELATION_IDS),
          });
        }
        try {
          const report = await receiver.notify(notification);
          const missed = report.failed.length + (report.refused?.length ?? 0);
          span.setAttributes({ 'seamwatch.alerts.failed': report.failed.length, 'seamwatch.alerts.refused': report.refused?.length ?? 0 });
          if (missed > 0) span.setStatus({ code: SpanStatusCode.ERROR, message: `${missed} not delivered` });
          return report;
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
          throw error;
        } finally {
          span.end();
        }
      }),
  };
}
