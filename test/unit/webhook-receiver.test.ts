import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookReceiver } from '../../src/alerts/receivers/webhook-receiver.ts';
import type { Alert } from '../../src/alerts/types.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

const alert: Alert = {
  fingerprint: 'f1',
  labels: { alertname: 'stuck-ticket', team: 'support-ops', severity: 'warning' },
  annotations: { summary: 'ticket stuck' },
  state: 'firing',
  startsAt: 1,
  endsAt: 0,
  generatorUrl: '',
};
const notification = { receiver: 'hook', groupKey: 'g', groupLabels: {}, firing: [alert], resolved: [], reason: 'new_alerts' as const, at: 2 };

/** A real HTTP endpoint answering the scripted statuses in turn (the last one from then on). */
let server: Server | undefined;
async function endpoint(statuses: number[]): Promise<{ url: string; calls: () => number }> {
  let calls = 0;
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.statusCode = statuses[Math.min(calls++, statuses.length - 1)]!;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, calls: () => calls };
}

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

const receiver = (url: string) => new WebhookReceiver({ name: 'hook', url, externalUrl: 'http://seamwatch', logger: silentLogger(), retry: { baseMs: 5, maxMs: 20, deadlineMs: 2_000 } });

describe('WebhookReceiver over real HTTP', () => {
  it('retries a 503 until the endpoint takes it', async () => {
    const hook = await endpoint([503, 502, 200]);
    expect(await receiver(hook.url).notify(notification)).toEqual({ failed: [] });
    expect(hook.calls()).toBe(3);
  });

  it('reports a 4xx as refused, not delivered, and does not retry it', async () => {
    const hook = await endpoint([422]);
    expect(await receiver(hook.url).notify(notification)).toEqual({ failed: [], refused: [{ fingerprint: 'f1', reason: 'webhook: HTTP 422' }] });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(hook.calls()).toBe(1);
  });

  it('reports failed, to be sent again at the next flush, when the endpoint stays down past the deadline', async () => {
    const hook = await endpoint([500]);
    const report = await new WebhookReceiver({ name: 'hook', url: hook.url, externalUrl: 'http://seamwatch', logger: silentLogger(), retry: { baseMs: 5, maxMs: 10, deadlineMs: 1_500 } }).notify(notification);
    expect(report.failed).toEqual([{ fingerprint: 'f1', reason: 'webhook: HTTP 500' }]);
    expect(hook.calls()).toBeGreaterThan(1);
  });
});
