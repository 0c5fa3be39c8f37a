/** The dashboard behind a credential, in headless Chromium: sent to the login page, in with the token, out again. */
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';
import { sha256Hex } from '../../src/auth/credentials';
import { AppConfig } from '../../src/config/app-config';
import { describeWithChromium, launchChromium } from '../support/chromium';

const TOKEN = 'dashboard-token-0123456789';

describeWithChromium('the dashboard behind a token', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'login-'));
  let app: INestApplication;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    const config = AppConfig.forTest({ API_TOKEN_SHA256: sha256Hex(TOKEN), DATA_DIR: dir, BASELINE_LOCAL_PATH: path.join(dir, 'baseline.json'), LOCAL_WATCH: 'false' });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    app = moduleRef.createNestApplication({ logger: ['error'] });
    configureApp(app);
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a visitor to the login page, lets the token in, and logs out', async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) violations.push(m.text());
    });
    await page.goto(base + '/');
    await page.waitForURL(/\/login$/, { timeout: 15000 });
    await page.fill('#token', 'wrong');
    await page.click('button[type=submit]');
    await page.locator('#message', { hasText: 'not valid' }).waitFor({ timeout: 15000 });
    await page.fill('#token', TOKEN);
    await page.click('button[type=submit]');
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 15000 });
    expect(await page.textContent('#totals')).toMatch(/No processed files yet/);
    await page.click('form.logout button');
    await page.waitForURL(/\/login$/, { timeout: 15000 });
    expect((await fetch(base + '/anomalies/summary')).status).toBe(401);
    expect(violations).toEqual([]);
    await page.close();
  }, 60_000);
});
