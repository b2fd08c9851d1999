import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { parseConfigText } from '../../src/config/load.ts';
import { Seamwatch, scorecardSourcesOf } from '../../src/app.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import type { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { ScorecardSender } from '../../src/scorecard/sender.ts';
import { smtpTransport } from '../../src/scorecard/mail.ts';
import { isoWeek } from '../../src/scorecard/week.ts';
import { formatLatency } from '../../src/scorecard/model.ts';
import sharp from 'sharp';
import { billingWebhook, buildScenario, cloudEvent, produceAll, scenarioConfig, T0, type ScenarioTopics } from '../support/scenario.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, createTopics, groupLag, kafka, requireServices, store, unique, waitFor } from '../support/services.ts';
import { SmtpSink } from '../support/smtp-sink.ts';
import { writeConfig } from '../support/child.ts';

const WEEK = '2026-W47';
const UPGRADES = 300;
const TICKETS = 40;
/** Event data that would run as markup if a template forgot to escape it. */
const HOSTILE_ID = 'c-"><script>alert(1)</script>';
const HOSTILE_CODE = '<img src=x onerror=alert(2)>';

const EXTRA = `
slos:
  - name: upgrade-sync-5m
    workflow: plan-upgrade
    objective: 99.9%
    window: 30d
    indicator: { completed-within: 5m, steps: [invoice-updated, entitlement-activated] }
  - name: ticket-resolution
    workflow: support-ticket
    objective: 95%
    window: 30d
    indicator: { success-ratio: {} }
detectors:
  stuck:
    - name: stuck-ticket
      owner: support-ops
      start: { source: ticketing, type: ticket.opened }
      progress: [{ source: ticketing, type: ticket.triaged }]
      end: { source: ticketing, type: ticket.resolved }
      after: 1h
  partialFailures:
    - { name: charged-not-entitled, workflow: plan-upgrade, irreversible: [invoice-updated] }
alerting: { traceUrlBase: "https://seamwatch.example.com/trace/" }
`;

const scorecardSection = (port: number) => `
scorecard:
  from: "seamwatch <seamwatch@example.com>"
  smtp: { host: 127.0.0.1, port: ${port} }
  teams:
    - { team: billing-platform, to: [billing-lead@example.com], timeZone: Europe/Berlin }
    - { team: support-ops, to: [support-lead@example.com, support-manager@example.com] }
  claimLease: 10m
  retryFor: 1m
`;

const pct2 = (v: number) => `${(v * 100).toFixed(2)} %`;
const pct1 = (v: number) => `${(v * 100).toFixed(1)} %`;

describe('weekly scorecard on real Kafka, ClickHouse and SMTP', () => {
  const id = unique('scorecard');
  const topics: ScenarioTopics = { crm: `${id}.crm`, billing: `${id}.billing`, ticketing: `${id}.ticketing` };
  const all = Object.values(topics);
  let admin: Admin;
  let producer: Producer;
  let ch: ClickHouseStore;
  let app: Seamwatch;
  const smtp = new SmtpSink();
  let port: number;
  let configText: string;

  beforeAll(async () => {
    await requireServices();
    port = await smtp.start();
    admin = kafka().admin();
    await admin.connect();
    await createTopics(admin, all);
    producer = kafka().producer();
    await producer.connect();
    ch = store(id);
    configText = scenarioConfig(topics, { database: id, groupId: `${id}-g`, brokers: KAFKA_BROKERS, clickhouseUrl: CLICKHOUSE_URL, pipeline: '{ flushInterval: 100ms, idleAdvanceAfter: 2s, sloEvaluateEvery: 100ms }', slos: EXTRA + scorecardSection(port) });
    // The app runs the pipeline; senders are made by the test, so that nothing sends before the week is stored.
    const config = parseConfigText(configText, 'test');
    const { smtp: _noSending, ...pageOnly } = config.scorecard!;
    app = new Seamwatch({ config: { ...config, scorecard: pageOnly }, logger: silentLogger() });
    await app.start();
    const scenario = buildScenario(topics, UPGRADES, TICKETS, 'sc');
    const hostileAt = T0 + 30 * 60_000;
    scenario.messages.get(topics.crm)!.push(cloudEvent('crm', 'subscription.upgraded', 'crm-hostile', HOSTILE_ID, hostileAt, false));
    scenario.messages.get(topics.billing)!.push(billingWebhook('invoice.updated', 'evt_inv_hostile', HOSTILE_ID, hostileAt + 5_000));
    scenario.messages.get(topics.billing)!.push(billingWebhook('entitlement.failed', 'evt_entf_hostile', HOSTILE_ID, hostileAt + 9_000, HOSTILE_CODE));
    await produceAll(producer, scenario.messages);
    await waitFor('the stream to be committed', async () => (await groupLag(admin, `${id}-g`, all)) === 0, 90_000);
    await waitFor('every upgrade counted by the SLO', async () => (await sloApi('upgrade-sync-5m')).runs?.total === UPGRADES + 1, 60_000);
    await app.alertState.persistence.save();
  });

  afterAll(async () => {
    await app?.shutdown().catch(() => undefined);
    await smtp.stop();
    await producer?.disconnect();
    await ch?.command(`DROP DATABASE IF EXISTS ${id}`);
    await ch?.shutdown();
    await admin?.deleteTopics({ topics: [...all, ...all.map((t) => `${t}.dlq`)] }).catch(() => undefined);
    await admin?.disconnect();
  });

  const sloApi = async (name: string) =>
    (await (await fetch(`http://127.0.0.1:${app.http.port}/api/v1/slos/${name}`)).json()) as { sli: number; runs: { total: number; bad: number }; errorBudget: { remainingRatio: number } };

  const sender = (instance: string, registry = new Registry(), now?: () => number) => {
    const config = parseConfigText(configText, 'test');
    return new ScorecardSender({
      config: config.scorecard!,
      sources: scorecardSourcesOf(config, app.store),
      transport: smtpTransport(config.scorecard!.smtp!),
      registry,
      logger: silentLogger(),
      instance,
      settleMs: 300,
      retryBaseMs: 50,
      ...(now ? { now } : {}),
    });
  };

  const mailTo = (address: string) => smtp.messages.filter((m) => m.envelopeTo.includes(address));

  it('sends billing-platform exactly one mail when two instances send the same week at once', async () => {
    const [a, b] = [sender('instance-a'), sender('instance-b')];
    const outcomes = await Promise.all([a.send('billing-platform', WEEK), b.send('billing-platform', WEEK)]);
    await Promise.all([a.shutdown(), b.shutdown()]);
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'sent')[0]).toMatch(/^(lost_claim|held_elsewhere)$/);
    expect(mailTo('billing-lead@example.com')).toHaveLength(1);
  });

  it('does not send it again after a restart (a new instance finds it sent)', async () => {
    const again = sender('instance-after-restart');
    expect(await again.send('billing-platform', WEEK)).toBe('already_sent');
    await again.shutdown();
    expect(mailTo('billing-lead@example.com')).toHaveLength(1);
  });

  it('mails the numbers the SLO API and the runs table hold for that week', async () => {
    const mail = mailTo('billing-lead@example.com')[0]!.parsed;
    const html = String(mail.html);
    const text = mail.text!;
    const slo = await sloApi('upgrade-sync-5m');
    expect(slo.runs.total).toBe(UPGRADES + 1);
    for (const body of [html, text]) {
      expect(body).toContain(pct2(slo.sli));
      expect(body).toContain(pct1(slo.errorBudget.remainingRatio));
    }
    expect(text).toContain(`upgrade-sync-5m (plan-upgrade): ${pct2(slo.sli)} against 99.90 %, missed`);
    expect(text).toContain(`${slo.runs.total} runs, ${slo.runs.bad} bad`);

    const week = isoWeek(WEEK, 'Europe/Berlin');
    const [runs] = await ch.rows<{ n: string; completed: string; failed: string; missed: string; compensated: string; q: string[] }>(
      `SELECT count() AS n, countIf(state = 'completed') AS completed, countIf(state = 'failed') AS failed, countIf(state = 'deadline_missed') AS missed,
              countIf(state = 'compensated') AS compensated, quantilesExactIf(0.5, 0.95)(toInt64(completed_at_ms) - toInt64(started_at_ms), completed_at_ms > 0) AS q
       FROM ${id}.runs FINAL WHERE workflow = 'plan-upgrade' AND started_at_ms >= ${week.from} AND started_at_ms < ${week.to}`,
    );
    expect(Number(runs!.n)).toBe(UPGRADES + 1);
    const seconds = (ms: string) => formatLatency(Number(ms));
    expect(text).toContain(
      `- plan-upgrade: ${runs!.n} runs (last week 0), ${runs!.completed} completed, ${runs!.failed} failed, ${runs!.missed} missed the deadline, ${runs!.compensated} compensated; p50 ${seconds(runs!.q[0]!)}, p95 ${seconds(runs!.q[1]!)}`,
    );
    const [top] = await ch.rows<{ error_code: string; n: string }>(
      `SELECT error_code, count() AS n FROM ${id}.spans FINAL WHERE workflow = 'plan-upgrade' AND status = 'failed' GROUP BY error_code ORDER BY n DESC LIMIT 1`,
    );
    expect(text).toMatch(new RegExp(`- plan-upgrade / entitlement-activated: \\S+ ${top!.error_code} x${top!.n}, e\\.g\\. https://seamwatch\\.example\\.com/trace/sc-up-`));
  });

  it('attaches each SLO trend chart as an inline PNG that the HTML references by its Content-ID', async () => {
    const mail = mailTo('billing-lead@example.com')[0]!.parsed;
    const html = String(mail.html);
    expect(mail.attachments).toHaveLength(1);
    const [chart] = mail.attachments;
    expect(chart!.contentType).toBe('image/png');
    expect(chart!.contentDisposition).toBe('inline');
    expect([...chart!.content.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const png = await sharp(chart!.content).metadata();
    expect([png.format, png.width >= 320, png.height >= 96]).toEqual(['png', true, true]);
    expect(html).toContain(`src="cid:${chart!.cid}"`);
    expect(mail.messageId).toBe('<scorecard.2026-W47.billing-platform@seamwatch>');
  });

  it('renders event data that is markup as inert text in the HTML and the text part', () => {
    const { parsed, raw } = mailTo('billing-lead@example.com')[0]!;
    const html = String(parsed.html);
    expect(html).not.toMatch(/<script|<img src=x/i);
    expect(html).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(2)&gt;');
    expect(parsed.text).toContain(HOSTILE_CODE);
    expect(raw.toString('latin1')).not.toContain('<script>alert(1)');
  });

  it('retries a send the mail server refuses for now, and shows it in the metrics', async () => {
    smtp.rejectNext = 2;
    const registry = new Registry();
    const s = sender('instance-c', registry);
    expect(await s.send('support-ops', WEEK)).toBe('sent');
    await s.shutdown();
    expect(smtp.rejected).toBe(2);
    const mails = mailTo('support-lead@example.com');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.envelopeTo.sort()).toEqual(['support-lead@example.com', 'support-manager@example.com']);
    const metrics = await registry.metrics();
    expect(metrics).toContain('seamwatch_scorecard_send_retries_total{team="support-ops"} 2');
    expect(metrics).toContain('seamwatch_scorecard_sends_total{team="support-ops",outcome="sent"} 1');
  });

  it('lists the support tickets still stuck from the alert state first, oldest first, with links to their traces', async () => {
    const mail = mailTo('support-lead@example.com')[0]!.parsed;
    // Every fourth ticket is never resolved: 10 of 40, opened 28 s apart.
    const neverResolved = Array.from({ length: TICKETS }, (_, i) => i).filter((i) => i % 4 === 3).map((i) => `sc-tk-${i}`);
    const stillFiring = [...mail.text!.matchAll(/\[(sc-tk-\d+)\] \(still firing\)/g)].map((m) => m[1]);
    expect(stillFiring).toEqual(neverResolved);
    expect(String(mail.html)).toContain(`href="https://seamwatch.example.com/trace/${neverResolved[0]}"`);
  });

  it('catches up at start the last complete week of each team, and says in one line that it was empty', async () => {
    // Monday 16 November, 10:00 UTC: the last complete week is W46, before any of the stream.
    const s = sender('instance-monday', new Registry(), () => Date.parse('2026-11-16T10:00:00Z'));
    const before = smtp.messages.length;
    s.start();
    await waitFor('both teams to get W46', async () => smtp.messages.length === before + 2, 20_000);
    await s.shutdown();
    const w46 = smtp.messages.slice(before).map((m) => m.parsed);
    expect(w46.map((m) => m.subject).sort()).toEqual([
      '[seamwatch] billing-platform reliability 2026-W46: nothing to report',
      '[seamwatch] support-ops reliability 2026-W46: nothing to report',
    ]);
    const billing = w46.find((m) => m.subject!.includes('billing-platform'))!;
    expect(billing.text).toContain('Nothing to report for billing-platform in 2026-W46: no runs, no SLO counts, no alerts, no dead letters, no silences.');
    expect(billing.attachments).toEqual([]);
  });

  it('serves the same scorecard at /scorecards/<week>/<team>, charts inline, no scripts allowed', async () => {
    const res = await fetch(`http://127.0.0.1:${app.http.port}/scorecards/${WEEK}/billing-platform`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain(pct2((await sloApi('upgrade-sync-5m')).sli));
    expect(html).toContain('src="data:image/png;base64,');
    expect((await fetch(`http://127.0.0.1:${app.http.port}/scorecards/2026-W99/billing-platform`)).status).toBe(400);
    expect((await fetch(`http://127.0.0.1:${app.http.port}/scorecards/${WEEK}/nobody`)).status).toBe(404);
  });

  it('prints the same numbers from the command line, and writes the page to a file', () => {
    // Kafka is not needed to read a week; the group names the alert state to read.
    const file = writeConfig(configText.replace(/brokers: \[[^\]]*\]/, 'brokers: [127.0.0.1:1]'));
    const root = resolve(import.meta.dirname, '../..');
    const run = spawnSync(process.execPath, [join(root, 'src/cli/main.ts'), 'scorecard', '--config', file, '--week', WEEK, '--team', 'billing-platform'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const mailed = mailTo('billing-lead@example.com')[0]!.parsed.text!;
    // The store-derived sections, the same as mailed (alerts held in state change as event time moves on).
    const section = (text: string) => text.slice(text.indexOf('PROMISES TO CUSTOMERS'), text.indexOf('BUSINESS INCIDENTS'));
    expect(section(run.stdout)).toContain('RUNS AND COMPLETION TIME');
    expect(section(run.stdout)).toBe(section(mailed));
    const out = join(resolve(file, '..'), 'page.html');
    const written = spawnSync(process.execPath, [join(root, 'src/cli/main.ts'), 'scorecard', '--config', file, '--week', WEEK, '--team', 'billing-platform', '--out', out], { encoding: 'utf8' });
    expect(written.status).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('src="data:image/png;base64,');
    // --send goes through the same claim: a week already mailed is not mailed again.
    const mails = smtp.messages.length;
    const send = spawnSync(process.execPath, [join(root, 'src/cli/main.ts'), 'scorecard', '--config', file, '--week', WEEK, '--send'], { encoding: 'utf8' });
    expect([send.status, send.stdout]).toEqual([0, `billing-platform ${WEEK}: already_sent\nsupport-ops ${WEEK}: already_sent\n`]);
    expect(smtp.messages.length).toBe(mails);
  });
});
