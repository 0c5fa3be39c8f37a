import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';
import { AppConfig } from '../../src/config/app-config';
import { createRng } from '../../src/detection/seeded-random';
import { ProcessingService } from '../../src/processing/processing.service';
import { generateBatch } from '../../src/producer/batch-generator';
import { ObjectStore } from '../../src/storage/object-store';
import { describeWithChromium, launchChromium } from '../support/chromium';

const OUTPUT = path.join(__dirname, '..', '..', 'test-output');

describeWithChromium('dashboard in headless Chromium against the real service', () => {
  let app: INestApplication;
  let browser: Browser;
  let base: string;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dashboard-'));

  beforeAll(async () => {
    const config = AppConfig.forTest({ DATA_DIR: dir, BASELINE_LOCAL_PATH: path.join(dir, 'baseline.json'), LOCAL_WATCH: 'false' });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    app = moduleRef.createNestApplication({ logger: ['error'] });
    configureApp(app);
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();

    const store = app.get(ObjectStore);
    const processing = app.get(ProcessingService);
    const rng = createRng(7);
    for (let i = 0; i < 4; i++) {
      const { csv } = generateBatch({ rows: 100, start: new Date(Date.UTC(2026, 1, 24, 0, i * 100)), rng, batchIndex: i });
      const key = `raw/sensors_2026022400${i}000.csv`;
      await store.put(key, csv, 'text/csv');
      processing.enqueue({ key, source: 'catch-up' });
      await processing.idle();
    }
    browser = await launchChromium();
  }, 60000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the totals, the channels with their flagged points, the baseline and the anomaly table as the API says', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const api = async (url: string): Promise<any> => (await fetch(base + url)).json();
    const summary = await api('/anomalies/summary');
    const recent = await api('/anomalies/recent?limit=50');
    const baseline = await api('/baseline/current');
    const batches = await api('/batches/recent?files=20');
    expect(summary.files_processed).toBe(4);
    expect(recent.count).toBeGreaterThan(0);

    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(base + '/');
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 15000 });

    expect(await page.textContent('#files-processed')).toBe(String(summary.files_processed));
    expect(await page.textContent('#rows-scored')).toBe(String(summary.total_rows_scored));
    expect(await page.textContent('#total-anomalies')).toBe(String(summary.total_anomalies));

    const channels = Object.keys(baseline.channels);
    expect(await page.$$eval('section[data-channel]', (els) => els.map((e) => (e as unknown as { dataset: { channel: string } }).dataset.channel))).toEqual(
      batches[0].series.channels,
    );
    expect(channels.sort()).toEqual([...batches[0].series.channels].sort());
    // Every anomalous row of the charted batches that names a channel is a red point on that channel's chart.
    for (const ch of batches[0].series.channels) {
      let expected = 0;
      for (const b of batches) {
        b.series.anomaly.forEach((a: boolean, i: number) => {
          if (a && b.series.values[ch][i] !== null && (b.series.zscoreFlags[ch][i] || b.series.reasons[i].includes(ch))) expected++;
        });
      }
      expect(await page.$$eval(`section[data-channel="${ch}"] circle.flagged`, (els) => els.length)).toBe(expected);
      expect(await page.$$eval(`section[data-channel="${ch}"] rect.band`, (els) => els.length)).toBe(baseline.channels[ch].baseline_mature ? 1 : 0);
    }

    expect(await page.$$eval('#anomalies tbody tr', (els) => els.length)).toBe(recent.count);
    expect(await page.$$eval('#baseline tbody tr', (els) => els.length)).toBe(channels.length);
    const firstLink = await page.getAttribute('#anomalies tbody tr a', 'href');
    expect(firstLink).toBe(`/batches/file?key=${encodeURIComponent(recent.anomalies[0].source_file)}`);
    const file = await fetch(base + firstLink);
    expect(file.status).toBe(200);
    expect(await file.text()).toMatch(/^timestamp,temperature/);

    // Nothing is fetched from anywhere but the service itself.
    expect(requests.filter((u) => !u.startsWith(base))).toEqual([]);
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: path.join(OUTPUT, 'dashboard.png'), fullPage: true });
    await page.close();
  }, 60000);

  it('marks a flagged row as a false alarm with one click, and the service keeps it', async () => {
    const recent = (await (await fetch(base + '/anomalies/recent?limit=50')).json()) as { anomalies: { source_file: string; row: number }[] };
    const page = await browser.newPage();
    await page.goto(base + '/');
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 15000 });
    await page.click('#anomalies tbody tr button[data-verdict="normal"]');
    await page.locator('#feedback-status', { hasText: /^feedback \S+: row \d+ of / }).waitFor({ timeout: 15000 });
    const listed = (await (await fetch(base + '/feedback')).json()) as { feedback: { id: string }[] };
    expect(listed.feedback).toHaveLength(1);
    expect(listed.feedback[0]).toMatchObject({ verdict: 'normal', source_file: recent.anomalies[0].source_file, rows: [recent.anomalies[0].row] });
    expect(await app.get(ObjectStore).getText(`state/feedback/${listed.feedback[0].id}.json`)).toContain('"verdict": "normal"');
    await page.close();
  }, 60000);

  it('exposes Prometheus metrics that agree with what was processed', async () => {
    const res = await fetch(base + '/metrics');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    const summary = (await (await fetch(base + '/anomalies/summary')).json()) as { total_rows_scored: number };
    expect(value('anomaly_batches_processed_total')).toBe(4);
    expect(value('anomaly_rows_scored_total')).toBe(summary.total_rows_scored);
    expect(value('anomaly_queue_depth')).toBe(0);
    expect(text).toMatch(/^anomaly_anomalies_flagged_total\{channel="temperature"\} \d+$/m);
    expect(text).toMatch(/^anomaly_batch_duration_seconds_count 4$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });
});
