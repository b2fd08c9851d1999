import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeScorecard } from '../../src/scorecard/compose.ts';
import { launchChromium } from '../support/chromium.ts';
import { weekData } from '../support/scorecard-data.ts';

/**
 * The scorecard page as a reader's browser shows it. SCORECARD_SCREENSHOT=<file> keeps the
 * screenshot (docs/scorecard.png is made so); otherwise it goes to a temporary folder.
 */
describe('the scorecard in headless Chromium', () => {
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  const open = async (hostile: boolean) => {
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    const { html } = await composeScorecard(weekData(hostile), 'data-uri');
    await page.setContent(html, { waitUntil: 'load' });
    return { page, problems };
  };

  it('shows every chart (no broken image) and logs no console error', async () => {
    const { page, problems } = await open(false);
    const images = await page.$$eval('img', (imgs) => imgs.map((i) => ({ complete: i.complete, width: i.naturalWidth, alt: i.alt })));
    expect(images).toHaveLength(2);
    expect(images.every((i) => i.complete && i.width >= 320)).toBe(true);
    expect(problems).toEqual([]);
    expect(await page.textContent('h1')).toBe('billing-platform — 2026-W47 (16 Nov – 22 Nov 2026, Europe/Berlin)');
    const file = process.env['SCORECARD_SCREENSHOT'] ?? join(mkdtempSync(join(tmpdir(), 'seamwatch-shot-')), 'scorecard.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(existsSync(file)).toBe(true);
    await page.close();
  });

  it('runs no script from hostile event data and shows it as text', async () => {
    const { page, problems } = await open(true);
    expect(await page.$$('script')).toHaveLength(0);
    expect(await page.$$eval('img', (imgs) => imgs.map((i) => i.getAttribute('src')!.slice(0, 22)))).toEqual(['data:image/png;base64,', 'data:image/png;base64,']);
    expect(problems).toEqual([]);
    expect(await page.textContent('body')).toContain('<script>alert("x")</script>');
    await page.close();
  });
});
