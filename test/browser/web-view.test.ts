import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebView } from '../../web/build.ts';
import { number, percent } from '../../web/src/format.ts';
import { launchChromium } from '../support/chromium.ts';
import { WEB_VIEW_CSP } from '../../src/http/web-view.ts';
import { HOSTILE, RETRIED_LATE, UPGRADES, startWebSeed, type WebSeed } from '../support/web-seed.ts';

/**
 * The web view in headless Chromium against a live seamwatch on the ClickHouse server, seeded
 * through its HTTP intake (test/support/web-seed.ts). Every page: no console error, the numbers
 * the API gives, and hostile event data shown as text. WEB_SCREENSHOTS=docs keeps the
 * screenshots (docs/web-*.png are made so); otherwise they go to a temporary folder.
 */

interface ApiSlo {
  name: string;
  sli: number | null;
  objective: number;
  runs: { total: number; bad: number };
  errorBudget: { remainingRatio: number; remainingRuns: number };
  burnRates: { tier: string; firing: boolean }[];
  series?: { points: unknown[] };
}
interface ApiAlert {
  fingerprint: string;
  state: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  receivers: string[];
  silencedBy: string[];
  generatorUrl: string;
}
interface ApiRun {
  runId: string;
  correlationId: string;
  state: string;
  startedAt: number;
  deadlineAt: number;
}

describe('the web view in headless Chromium', () => {
  let seed: WebSeed;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  const shots = process.env['WEB_SCREENSHOTS'] ?? mkdtempSync(join(tmpdir(), 'seamwatch-web-'));

  const api = async <T>(path: string): Promise<T> => (await (await fetch(`${seed.base}${path}`)).json()) as T;

  beforeAll(async () => {
    await buildWebView();
    mkdirSync(shots, { recursive: true });
    [seed, browser] = await Promise.all([startWebSeed(), launchChromium()]);
  });

  afterAll(async () => {
    await browser?.close();
    await seed?.close();
  });

  /** Opens a page of the web view, recording anything that would mean it broke or ran data as code. */
  const open = async (path: string, ready: string, answerOf?: string) => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1100, height: 760 });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    page.on('request', (r) => {
      if (!r.url().startsWith(seed.base)) problems.push(`request elsewhere: ${r.url()}`);
    });
    // What the page itself was told by the API, for numbers that move as event time does (SLOs, alerts).
    const answer = answerOf ? page.waitForResponse((r) => new URL(r.url()).pathname === answerOf) : undefined;
    await page.goto(`${seed.base}${path}`);
    await page.waitForSelector(ready);
    return { page, problems, answer: (await (await answer)?.json()) as unknown };
  };

  /** Nothing from the seeded hostile strings ran, and the page holds no script but its own. */
  const expectInert = async (page: Page) => {
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.$$eval('script', (s) => s.map((e) => e.getAttribute('src')))).toEqual(['/assets/app.js']);
    expect(await page.$$('iframe, img[onerror], [onerror]')).toHaveLength(0);
  };

  /** A screenshot of the page, or of its first screen when it is long (the runs list). */
  const shoot = async (page: Page, name: string, fullPage = true) => {
    // Palette PNGs: a page of text and flat colours loses nothing visible and shrinks about fourfold.
    const png = await page.screenshot({ fullPage });
    await sharp(png).png({ palette: true, compressionLevel: 9 }).toFile(join(shots, `web-${name}.png`));
  };

  it('serves each page path the same shell under a policy that allows script only from seamwatch', async () => {
    for (const path of ['/', '/slos/upgrade-sync-5m', '/alerts', `/trace/${encodeURIComponent(HOSTILE.correlationId)}`, '/runs', '/dead-letters']) {
      const res = await fetch(`${seed.base}${path}`);
      expect([path, res.status, res.headers.get('content-security-policy')]).toEqual([path, 200, WEB_VIEW_CSP]);
      expect(await res.text()).toContain('<script type="module" src="/assets/app.js"></script>');
    }
    expect((await fetch(`${seed.base}/assets/app.js`)).headers.get('content-type')).toMatch(/^(text|application)\/javascript/);
    expect((await fetch(`${seed.base}/assets/nope.js`)).status).toBe(404);
  });

  it('lists every SLO with the API\'s SLI, objective, budget left and firing tiers', async () => {
    const { page, problems, answer } = await open('/', '[data-testid=slo-table]', '/api/v1/slos');
    const { slos } = answer as { slos: ApiSlo[] };
    for (const slo of slos) {
      const row = page.locator(`tr[data-slo="${slo.name}"]`);
      expect(await row.locator('[data-field=sli]').textContent()).toBe(percent(slo.sli));
      expect(await row.locator('[data-field=objective]').textContent()).toBe(percent(slo.objective));
      expect(await row.locator('[data-field=budget] .budget-text').textContent()).toBe(percent(slo.errorBudget.remainingRatio, 1));
      expect(await row.locator('[data-field=runs]').textContent()).toBe(`${number(slo.runs.total)} (${number(slo.runs.bad)})`);
      expect(await row.locator('[data-field=firing] .badge').allTextContents()).toEqual(slo.burnRates.filter((b) => b.firing).map((b) => b.tier));
    }
    const upgrades = slos.find((s) => s.name === 'upgrade-sync-5m')!;
    expect(upgrades.runs).toEqual({ total: UPGRADES + 1, bad: 13 });
    expect(upgrades.burnRates.some((b) => b.firing)).toBe(true);
    await shoot(page, 'slos');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows an SLO\'s numbers and draws its SLI and budget charts', async () => {
    const { page, problems, answer } = await open('/slos/upgrade-sync-5m', '[data-testid=budget-chart] canvas', '/api/v1/slos/upgrade-sync-5m');
    const slo = answer as ApiSlo;
    expect(await page.locator('[data-testid=slo-facts] [data-field=sli]').textContent()).toBe(percent(slo.sli));
    expect(await page.locator('[data-testid=slo-facts] [data-field=budget]').textContent()).toBe(`${percent(slo.errorBudget.remainingRatio, 1)} ${number(slo.errorBudget.remainingRuns)} runs`);
    expect(slo.series!.points.length).toBeGreaterThan(1);
    for (const chart of ['sli-chart', 'budget-chart']) {
      const width = await page.locator(`[data-testid=${chart}] canvas`).evaluate((c) => (c as unknown as { width: number }).width);
      expect(width).toBeGreaterThan(300);
    }
    expect(await page.locator('[data-testid=burn-table] tbody tr').count()).toBe(slo.burnRates.length);
    await page.click('[data-testid=span-runs]');
    await page.waitForSelector('[data-testid=span-runs].current');
    await shoot(page, 'slo');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows firing, pending and resolved alerts with whom they page and what mutes them, all text inert', async () => {
    const { page, problems, answer } = await open('/alerts', '[data-group=firing]', '/api/v1/alerts');
    const { alerts } = answer as { alerts: ApiAlert[] };
    for (const state of ['firing', 'pending']) {
      const expected = alerts.filter((a) => a.state === state);
      expect(await page.locator(`[data-group=${state}] tbody tr`).count()).toBe(expected.length);
    }
    const firing = alerts.filter((a) => a.state === 'firing');
    expect(firing.length).toBeGreaterThanOrEqual(2);
    for (const a of firing) {
      const row = page.locator(`[data-group=firing] tr[data-fingerprint="${a.fingerprint}"]`);
      expect(await row.locator('[data-field=receivers]').textContent()).toBe(a.receivers.length > 0 ? a.receivers.join(', ') : 'nobody (no route)');
      expect(await row.locator('[data-field=summary]').textContent()).toBe(a.annotations['summary']);
    }
    const hostile = firing.find((a) => a.annotations['correlation_id'] === HOSTILE.correlationId)!;
    expect(hostile.receivers).toEqual(['billing-pager']);
    expect(await page.locator(`tr[data-fingerprint="${hostile.fingerprint}"] a`).first().textContent()).toBe(HOSTILE.correlationId);
    expect(await page.locator('[data-testid=silences]').textContent()).toContain(HOSTILE.silenceComment);
    await expectInert(page);
    await shoot(page, 'alerts');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('creates a silence for an alert with the API token, shows it muting the alert, and expires it', async () => {
    const { page, problems } = await open('/alerts', '[data-group=firing]');
    await page.click('button.token');
    await page.fill('input[name=token]', seed.token);
    await Promise.all([page.waitForEvent('load'), page.click('form.token button')]);
    await page.waitForSelector('[data-group=firing] tbody tr');
    const row = page.locator('[data-group=firing] tbody tr').first();
    const fingerprint = (await row.getAttribute('data-fingerprint'))!;
    await row.locator('button', { hasText: 'Silence' }).click();
    await page.fill('[data-testid=silence-form] input[name=createdBy]', 'web-test@example.com');
    await page.fill('[data-testid=silence-form] input[name=comment]', 'checked from the web view');
    await page.click('[data-testid=silence-form] button[type=submit]');
    await page.waitForSelector('[data-testid=silence-form] .ok');
    const { silences } = await api<{ silences: { id: string; createdBy: string; state: string }[] }>('/api/v1/silences?state=active');
    const made = silences.find((s) => s.createdBy === 'web-test@example.com')!;
    expect(made).toBeDefined();
    const muted = await api<{ alerts: ApiAlert[] }>('/api/v1/alerts?state=firing');
    expect(muted.alerts.find((a) => a.fingerprint === fingerprint)!.silencedBy).toContain(made.id);
    await expect.poll(() => page.locator(`tr[data-fingerprint="${fingerprint}"] [data-field=silenced-by]`).textContent()).not.toBe('—');
    expect(await page.locator(`tr[data-fingerprint="${fingerprint}"] [data-field=silenced-by]`).textContent()).toContain(made.id.slice(0, 8));
    await page.locator(`tr[data-silence="${made.id}"] button`, { hasText: 'Expire' }).click();
    await page.waitForSelector(`tr[data-silence="${made.id}"]`, { state: 'detached' });
    expect((await api<{ state: string }>(`/api/v1/silences/${made.id}`)).state).toBe('expired');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('reads its API again on its own, without a reload or a loading flash, and keeps the data up, marked stale, when a refresh fails', async () => {
    const { page, problems } = await open('/alerts', '[data-group=firing]');
    expect(await page.locator('[data-field=freshness]').textContent()).toMatch(/^updated \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    await page.selectOption('select[name=refresh]', '5');
    // The same element must still be there after the refresh: the page was not rebuilt or reloaded.
    await page.locator('[data-group=firing]').evaluate((element) => element.setAttribute('data-kept', 'yes'));
    const created = await fetch(`${seed.base}/api/v1/silences`, {
      method: 'POST',
      headers: { authorization: `Bearer ${seed.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ matchers: ['team="nobody"'], duration: '1h', createdBy: 'refresh-test@example.com', comment: 'made elsewhere' }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    try {
      await page.waitForSelector(`tr[data-silence="${id}"]`, { timeout: 15_000 });
      expect(await page.locator('[data-group=firing][data-kept=yes]').count()).toBe(1);
      expect(problems).toEqual([]);
      // seamwatch unreachable for a while: what was read stays, and says since when.
      await page.route('**/api/v1/alerts', (route) => route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'store unavailable' }) }));
      await page.waitForSelector('[data-field=freshness].stale', { timeout: 15_000 });
      expect(await page.locator('[data-field=freshness]').textContent()).toMatch(/^Could not refresh \(503: .*\); showing data read at /);
      expect(await page.locator('[data-group=firing][data-kept=yes] tbody tr').count()).toBeGreaterThan(0);
      await page.unroute('**/api/v1/alerts');
      await page.waitForSelector('[data-field=freshness]:not(.stale)', { timeout: 15_000 });
    } finally {
      await page.selectOption('select[name=refresh]', '15');
      await fetch(`${seed.base}/api/v1/silences/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${seed.token}` } });
      await page.close();
    }
  });

  it('shows a paging pause above the alerts and on each alert it holds back, and drops it on resume', async () => {
    const auth = { authorization: `Bearer ${seed.token}`, 'content-type': 'application/json' };
    const paused = await fetch(`${seed.base}/api/v1/pauses`, { method: 'POST', headers: auth, body: JSON.stringify({ scope: 'team', name: 'billing-platform', reason: 'INC-42 <b>billing</b> down', duration: '1h' }) });
    expect(paused.status).toBeLessThan(300);
    try {
      const { page, problems, answer } = await open('/alerts', '[data-field=pauses]', '/api/v1/alerts');
      const { alerts } = answer as { alerts: (ApiAlert & { pausedBy: string[] })[] };
      const held = alerts.filter((a) => a.state === 'firing' && a.labels['team'] === 'billing-platform');
      expect(held.length).toBeGreaterThan(0);
      expect(await page.locator('[data-pause="team=billing-platform"]').textContent()).toContain('INC-42 <b>billing</b> down');
      for (const a of held) {
        expect(a.pausedBy).toEqual(['team=billing-platform']);
        expect(await page.locator(`[data-group=firing] tr[data-fingerprint="${a.fingerprint}"] .paused-by`).textContent()).toBe('paused: team=billing-platform');
      }
      const others = alerts.filter((a) => a.state === 'firing' && a.labels['team'] !== 'billing-platform');
      for (const a of others) expect(await page.locator(`[data-group=firing] tr[data-fingerprint="${a.fingerprint}"] .paused-by`).count()).toBe(0);
      await expectInert(page);
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      const resumed = await fetch(`${seed.base}/api/v1/pauses/team/billing-platform`, { method: 'DELETE', headers: auth });
      expect(resumed.status).toBeLessThan(300);
    }
    const { page, problems } = await open('/alerts', '[data-group=firing]');
    expect(await page.locator('[data-field=pauses]').count()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('draws every step of a run as a bar on the time axis, with the deadline, the retried 429, the redelivered webhook and the SLO verdict', async () => {
    const trace = await api<{ runs: ApiRun[]; spans: { runId: string; step: string; status: string }[]; sloVerdicts: { slo: string; good: boolean }[] }>(`/api/v1/traces/${RETRIED_LATE}`);
    const { page, problems } = await open(`/trace/${RETRIED_LATE}`, '[data-testid=waterfall]');
    const run = trace.runs[0]!;
    expect(run.state).toBe('completed');
    const steps = await page.locator('[data-testid=waterfall] .wf-row[data-step]').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-step'), r.getAttribute('data-status')]));
    expect(steps.map(([s]) => s).sort()).toEqual(trace.spans.filter((s) => s.runId === run.runId).map((s) => s.step).sort());
    expect(steps).toEqual([
      ['trigger', 'done'],
      ['invoice-updated', 'done'],
      ['entitlement-activated', 'done'],
    ]);
    // The 429 before the invoice was updated is a failed attempt on that step's row.
    expect(await page.locator('.wf-row[data-step=invoice-updated] [data-mark=failed-attempt]').count()).toBe(1);
    expect(await page.locator('.wf-row[data-step=invoice-updated]').textContent()).toContain('1 retry');
    // The invoice webhook came twice: the copy was dropped, and the trace says so.
    expect(await page.locator('.wf-row[data-step=invoice-updated] [data-mark=redelivery]').count()).toBe(1);
    expect(await page.locator('.wf-row[data-step=invoice-updated]').textContent()).toContain('1 redelivery');
    expect(await page.locator(`[data-testid=events] tr[data-event="inv-${RETRIED_LATE}"]`).textContent()).toContain('delivered 2×');
    // Entitlement came 7 minutes after the trigger: past the 5-minute deadline line.
    expect(await page.locator('.wf-row[data-step=entitlement-activated]').textContent()).toContain('after deadline');
    const deadline = await page.locator('[data-testid=deadline]').boundingBox();
    const lateBar = await page.locator('.wf-row[data-step=entitlement-activated] .wf-bar').boundingBox();
    expect(deadline!.x).toBeLessThan(lateBar!.x + lateBar!.width);
    expect(deadline!.x).toBeGreaterThan(lateBar!.x);
    expect(await page.locator('[data-field=slos]').textContent()).toBe(trace.sloVerdicts.map((v) => `${v.slo}: ${v.good ? 'good' : 'bad'}`).join(''));
    expect(trace.sloVerdicts).toEqual([expect.objectContaining({ slo: 'upgrade-sync-5m', good: false })]);
    await shoot(page, 'trace');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('lands on the trace page from the link seamwatch sent PagerDuty, and from the search box', async () => {
    const links = seed.pagerDuty.accepted().flatMap((r) => ((r.body as { links?: { href: string }[] }).links ?? []).map((l) => l.href));
    const href = links.find((l) => l.includes(encodeURIComponent(HOSTILE.correlationId)))!;
    expect(href).toBe(`http://127.0.0.1:9470/trace/${encodeURIComponent(HOSTILE.correlationId)}`);
    // The configured traceUrlBase is the default, so swap the host for this test's server.
    const { page, problems } = await open(new URL(href).pathname, '[data-testid=waterfall]');
    expect(await page.locator('[data-testid=correlation-id]').textContent()).toBe(HOSTILE.correlationId);
    expect(await page.locator('article.run h2 [data-state]').textContent()).toBe('deadline missed');
    expect(await page.locator('.wf-row[data-step=entitlement-activated]').getAttribute('data-status')).toBe('missing');
    expect(await page.locator('[data-testid=events]').textContent()).toContain(HOSTILE.data.replaceAll('"', '\\"'));
    await expectInert(page);
    await page.fill('input[name=correlationId]', 'up-3');
    await page.click('form.search button');
    await page.waitForSelector('article.run h2 [data-state=failed]');
    expect(page.url()).toBe(`${seed.base}/trace/up-3`);
    expect(await page.locator('.wf-row[data-step=invoice-updated]').getAttribute('data-status')).toBe('failed');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('filters runs by workflow and state, and shows the API\'s runs', async () => {
    const { page, problems } = await open('/runs', '[data-testid=runs]');
    await page.selectOption('select[name=workflow]', 'plan-upgrade');
    await page.selectOption('select[name=state]', 'failed');
    await page.click('form.filters button');
    await page.waitForURL(/state=failed/);
    await expect.poll(() => page.locator('[data-testid=runs] tbody tr').count()).toBe(4);
    const url = new URL(page.url());
    const expected = await api<{ total: number; runs: ApiRun[] }>(`/api/v1/runs${url.search}`);
    expect(expected.total).toBe(4);
    expect(await page.locator('[data-testid=runs-count]').textContent()).toBe(`${expected.total} runs`);
    expect(await page.locator('[data-testid=runs] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run')))).toEqual(expected.runs.map((r) => r.runId));
    await page.goto(`${seed.base}/runs`);
    await page.waitForSelector('[data-testid=runs] tbody tr');
    const all = await api<{ total: number }>('/api/v1/runs');
    // 60 upgrades, the hostile run and 6 tickets: fewer than a page, so all are listed.
    expect(all.total).toBe(UPGRADES + 1 + 6);
    expect(await page.locator('[data-testid=runs-count]').textContent()).toBe(`${all.total} runs`);
    expect(await page.locator('[data-testid=runs] tbody tr').count()).toBe(all.total);
    await expectInert(page);
    await shoot(page, 'runs', false);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows dead letters with reason, origin and the raw bytes as text', async () => {
    const expected = await api<{ total: number; deadLetters: { reason: string; rawPreview: string; origin: { topic: string; partition: number; offset: string } }[] }>('/api/v1/dead-letters');
    expect(expected.total).toBe(2);
    const { page, problems } = await open('/dead-letters', '[data-testid=dead-letters]');
    expect(await page.locator('[data-testid=dead-letters] tbody tr').count()).toBe(2);
    for (const d of expected.deadLetters) {
      const row = page.locator(`tr[data-origin="${d.origin.topic}/${d.origin.partition}/${d.origin.offset}"]`);
      expect(await row.locator('.badge').textContent()).toBe(d.reason);
      expect(await row.locator('[data-field=raw]').textContent()).toBe(d.rawPreview);
    }
    expect(expected.deadLetters.map((d) => d.rawPreview)).toContain(HOSTILE.deadLetter);
    await expectInert(page);
    await shoot(page, 'dead-letters');
    expect(problems).toEqual([]);
    await page.close();
  });
});

