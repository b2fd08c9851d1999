import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_URL_PATH } from '@opentelemetry/semantic-conventions';
import type { NextFunction, Request, Response } from 'express';
import { ATTR_CORRELATION_ID } from './self-tracing.ts';

/**
 * Express middleware: one SERVER span per request, named by method and route, with HTTP
 * semantic attributes, a W3C traceparent from the caller honoured, and the correlation ID
 * when the route names one (`/api/v1/traces/:correlationId`).
 */
export function requestSpans(tracer: Tracer) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer.startSpan(req.method, { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: req.method, [ATTR_URL_PATH]: req.path } }, parent);
    res.once('close', () => {
      const route = typeof req.route?.path === 'string' ? `${req.baseUrl}${req.route.path}` : undefined;
      if (route) {
        span.updateName(`${req.method} ${route}`);
        span.setAttribute(ATTR_HTTP_ROUTE, route);
      }
      const correlationId = (req.params as Record<string, string> | undefined)?.['correlationId'];
      if (correlationId) span.setAttribute(ATTR_CORRELATION_ID, correlationId);
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}
