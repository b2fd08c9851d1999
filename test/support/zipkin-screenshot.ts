/**
 * Makes docs/zipkin-trace.png: a stitched plan upgrade (a 429 on the entitlement retried into
 * success, a redelivered invoice webhook) sent through seamwatch's business-trace exporter with
 * `protocol: zipkin` to a local Zipkin, and its trace page shot in headless Chromium.
 *
 *   bash deploy/local/zipkin.sh start && node test/support/zipkin-screenshot.ts [out.png]
 *
 * Env: SEAMWATCH_ZIPKIN_PORT (default 19411). Event times are a few minutes ago, so Zipkin's
 * default look-back finds the trace too.
 */
import { join } from 'node:path';
import { Registry } from 'prom-client';
import type { WorkflowEvent } from '../../src/domain/event.ts';
import { Stitcher } from '../../src/stitch/stitcher.ts';
import { businessTrace } from '../../src/stitch/trace.ts';
import { businessTraceExporter } from '../../src/telemetry/traces/build.ts';
import { businessTraceId } from '../../src/telemetry/traces/ids.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { launchChromium } from './chromium.ts';

const port = Number(process.env['SEAMWATCH_ZIPKIN_PORT'] ?? 19411);
const out = process.argv[2] ?? join(import.meta.dirname, '..', '..', 'docs', 'zipkin-trace.png');
const T = Math.floor((Date.now() - 5 * 60_000) / 1000) * 1000;
const S = 1000;
const correlationId = `upg-${new Date(T).toISOString().slice(11, 19).replaceAll(':', '')}`;

const stitcher = new Stitcher(
  [
    {
      name: 'plan-upgrade',
      owner: 'billing-platform',
      description: 'A plan upgrade reaches billing and entitlements',
      trigger: { source: 'crm', type: 'subscription.upgraded' },
      steps: [
        { name: 'invoice-updated', source: 'billing', type: 'invoice.updated', required: true, failOn: [] },
        { name: 'entitlement-activated', source: 'entitlements', type: 'entitlement.activated', required: true, failOn: ['entitlement.failed'] },
        { name: 'ticket-tagged', source: 'ticketing', type: 'ticket.tagged', required: false, failOn: [] },
      ],
      compensation: [],
      deadline: 5 * 60 * S,
    },
  ],
  { dedupeWindow: 600_000, dedupeMaxKeys: 100, holdUnmatchedFor: 600_000, allowedLateness: 0, idleAdvanceAfter: 30_000, closedRunRetention: 600_000, closedRunMemory: 100 },
);
const ev = (source: string, type: string, id: string, at: number, error?: WorkflowEvent['error']): WorkflowEvent => ({
  source,
  id,
  type,
  time: T + at,
  correlationId,
  ...(error ? { error } : {}),
  origin: { topic: `${source}.events`, partition: 0, offset: '0' },
});
const invoice = ev('billing', 'invoice.updated', 'evt_inv_1', 4 * S);
for (const [event, now] of [
  [ev('crm', 'subscription.upgraded', 'crm-881', 0), T],
  [invoice, T + 4 * S],
  [ev('entitlements', 'entitlement.failed', 'ent-try-1', 9 * S, { code: '429', class: 'rate_limited', message: 'Too Many Requests' }), T + 9 * S],
  [invoice, T + 12 * S], // the billing provider sent the webhook again
  [ev('entitlements', 'entitlement.activated', 'ent-try-2', 21 * S), T + 21 * S],
  [ev('ticketing', 'ticket.tagged', 'tkt-tag-52', 33 * S), T + 33 * S],
] as const) {
  stitcher.apply(event, now);
}
const trace = businessTrace(stitcher.run(`plan-upgrade:${correlationId}`)!);

const exporter = businessTraceExporter(
  { endpoint: `http://127.0.0.1:${port}/api/v2/spans`, protocol: 'zipkin', headers: {}, exportOpen: true, maxQueueSpans: 100, maxBatchSpans: 100, batchDelay: 100, timeout: 5_000 },
  { registry: new Registry(), logger: silentLogger() },
);
exporter.offer([trace]);
await exporter.shutdown();

const traceId = businessTraceId('plan-upgrade', correlationId);
const { context, close } = await launchChromium();
try {
  const page = await context.newPage();
  await page.setViewportSize({ width: 1280, height: 1040 });
  await page.goto(`http://127.0.0.1:${port}/zipkin/traces/${traceId}`);
  await page.getByText('entitlement-activated').first().waitFor({ timeout: 30_000 });
  // Open the retried step, so its attempt events show beside the waterfall.
  await page.getByText('entitlement-activated').first().click();
  await page.waitForTimeout(500);
  await page.screenshot({ path: out });
  console.log(`trace ${traceId} (correlation ID ${correlationId}) → ${out}`);
} finally {
  await close();
}
