import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ScheduleModule } from '@nestjs/schedule';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { configureApp } from '../../src/app.setup';
import { AppConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { ReportingIndexService } from '../../src/reporting/reporting-index.service';
import { ReportingModule } from '../../src/reporting/reporting.module';
import { ObjectStore } from '../../src/storage/object-store';
import { StorageModule } from '../../src/storage/storage.module';
import { S3TestServer } from '../support/s3-test-server';

const fixtures = path.join(__dirname, '..', 'fixtures', 'reference');
const fixture = (name: string) => readFileSync(path.join(fixtures, name), 'utf8');

function summary(name: string, minute: number, rows: number, anomalies: number) {
  return {
    source_key: `raw/${name}.csv`,
    output_key: `processed/${name}.csv`,
    processed_at: new Date(Date.UTC(2026, 1, 24, 1, minute)).toISOString(),
    total_rows: rows,
    anomaly_count: anomalies,
    anomaly_rate: anomalies / rows,
    baseline_observation_counts: { temperature: 100 * minute },
  };
}

function scoredCsv(flags: boolean[]): string {
  const header = 'timestamp,temperature,temperature_zscore,temperature_zscore_flag,if_label,if_score,if_flag,anomaly,anomaly_score,anomaly_reasons';
  const lines = flags.map((a, i) =>
    [`2026-02-24T01:${String(i).padStart(2, '0')}:00.000`, 22 + i, a ? 7.5 : 0.1, a ? 'True' : 'False', a ? -1 : 1, a ? -0.1 : 0.1, a ? 'True' : 'False', a ? 'True' : 'False', a ? 0.99 : 0.01, a ? '"temperature z=7.5; isolation"' : ''].join(','),
  );
  return [header, ...lines].join('\n') + '\n';
}

describe('reporting endpoints against the S3 test server', () => {
  let server: S3TestServer;
  let app: INestApplication;
  let store: ObjectStore;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'reporting-'));
  const localBaseline = path.join(tmp, 'baseline.json');
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    server = await new S3TestServer({ buckets: ['reporting'] }).start();
  });
  afterAll(async () => {
    await app?.close();
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  async function boot(): Promise<void> {
    await app?.close();
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(AppConfig.forTest({ BUCKET_NAME: 'reporting', S3_ENDPOINT: server.endpoint, BASELINE_LOCAL_PATH: localBaseline })),
        ScheduleModule.forRoot(),
        StorageModule,
        ReportingModule,
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    configureApp(app);
    await app.init();
    store = app.get(ObjectStore);
  }

  it('says so before any batch was processed', async () => {
    await boot();
    await http().get('/anomalies/summary').expect(200, { message: 'No processed files yet.' });
    await http().get('/anomalies/recent').expect(200, { count: 0, anomalies: [] });
  });

  it("reads the reference app's own summary and scored files, typed", async () => {
    await store.put('processed/sensors_20260224T001051.csv', fixture('sensors_20260224T001051.csv'));
    await store.put('processed/sensors_20260224T001051_summary.json', fixture('sensors_20260224T001051_summary.json'));
    await boot();
    const sum = await http().get('/anomalies/summary').expect(200);
    expect(sum.body).toMatchObject({ files_processed: 1, total_rows_scored: 4, total_anomalies: 2, overall_anomaly_rate: 0.5 });
    expect(sum.body.most_recent[0].source_key).toBe('raw/sensors_20260224T001051.csv');
    const recent = await http().get('/anomalies/recent').expect(200);
    expect(recent.body.count).toBe(2);
    expect(recent.body.anomalies[0]).toMatchObject({
      timestamp: '2026-02-24T00:11:51.000',
      temperature: 31.49,
      temperature_zscore_flag: true,
      humidity_zscore_flag: false,
      if_label: -1,
      anomaly: true,
      source_file: 'processed/sensors_20260224T001051.csv',
    });
  });

  it('adds batches written later, newest first, skipping a malformed summary without failing', async () => {
    for (let m = 1; m <= 12; m++) {
      const name = `sensors_b${String(m).padStart(2, '0')}`;
      const flags = Array.from({ length: 5 }, (_, i) => i < (m % 3));
      await store.put(`processed/${name}.csv`, scoredCsv(flags));
      await store.put(`processed/${name}_summary.json`, JSON.stringify(summary(name, m, 5, m % 3)));
    }
    await store.put('processed/broken_summary.json', '{"total_rows": "lots"');
    await store.put('processed/wrong_summary.json', JSON.stringify({ total_rows: -5, anomaly_count: 1, processed_at: 'x' }));
    await app.get(ReportingIndexService).refresh();

    const sum = await http().get('/anomalies/summary').expect(200);
    const expectedAnoms = 2 + Array.from({ length: 12 }, (_, i) => (i + 1) % 3).reduce((a, b) => a + b, 0);
    expect(sum.body).toMatchObject({ files_processed: 13, total_rows_scored: 4 + 60, total_anomalies: expectedAnoms });
    expect(sum.body.overall_anomaly_rate).toBe(Math.round((expectedAnoms / 64) * 10000) / 10000);
    expect(sum.body.most_recent.map((s: { output_key: string }) => s.output_key)).toEqual(
      [12, 11, 10, 9, 8].map((m) => `processed/sensors_b${String(m).padStart(2, '0')}.csv`),
    );

    const recent = await http().get('/anomalies/recent?limit=1000').expect(200);
    // The 10 newest files are b03..b12; b12 (12 % 3 = 0) has none.
    const files = [...new Set(recent.body.anomalies.map((a: { source_file: string }) => a.source_file))];
    expect(files).toEqual([11, 10, 8, 7, 5, 4].map((m) => `processed/sensors_b${String(m).padStart(2, '0')}.csv`));
    expect(recent.body.count).toBe([11, 10, 8, 7, 5, 4].reduce((a, m) => a + (m % 3), 0));
    expect(recent.body.anomalies.every((a: { anomaly: boolean }) => a.anomaly === true)).toBe(true);

    const batches = await http().get('/batches/recent?files=3').expect(200);
    expect(batches.body.map((b: { summary: { output_key: string } }) => b.summary.output_key)).toEqual(
      [10, 11, 12].map((m) => `processed/sensors_b${m}.csv`),
    );
    expect(batches.body[1].series).toMatchObject({ channels: ['temperature'], anomaly: [true, true, false, false, false], truncated: false });
    expect(batches.body[1].series.values.temperature).toEqual([22, 23, 24, 25, 26]);
    await http().get('/batches/recent?files=0').expect(400);

    const one = await http().get('/anomalies/recent?limit=1').expect(200);
    expect(one.body.count).toBe(1);
    expect(one.body.anomalies[0].source_file).toBe('processed/sensors_b11.csv');
  });

  it('starts again from its saved index, and re-reads a summary that was rewritten since', async () => {
    const before = (await http().get('/anomalies/summary').expect(200)).body;
    expect(await store.head('state/reporting-index.json')).not.toBeNull();
    await store.put('processed/sensors_b01_summary.json', JSON.stringify(summary('sensors_b01', 1, 5, 5)));
    await boot();
    const after = (await http().get('/anomalies/summary').expect(200)).body;
    expect(after.files_processed).toBe(before.files_processed);
    expect(after.total_anomalies).toBe(before.total_anomalies - 1 + 5);
    expect(after.most_recent).toEqual(before.most_recent);
  });

  it("serves /baseline/current from the reference app's baseline.json", async () => {
    await store.put('state/baseline.json', fixture('baseline.json'));
    rmSync(localBaseline, { force: true });
    await boot();
    const res = await http().get('/baseline/current').expect(200);
    expect(res.body).toMatchObject({ last_updated: '2026-02-24T00:11:02.118412', z_threshold: 3, min_count: 30 });
    expect(res.body.channels).toEqual({
      temperature: { observations: 104, mean: 22, std: 1.5, baseline_mature: true, seasonal: null },
      humidity: { observations: 104, mean: 55, std: 5, baseline_mature: true, seasonal: null },
      pressure: { observations: 104, mean: 1013, std: 3, baseline_mature: true, seasonal: null },
      wind_speed: { observations: 104, mean: 10, std: 2.5, baseline_mature: true, seasonal: null },
    });
  });

  it.each(['0', '1001', '-1', '1.5', 'abc', ''])('refuses limit=%p with a 400 that says what is allowed', async (limit) => {
    const res = await http().get(`/anomalies/recent?limit=${limit}`).expect(400);
    expect(JSON.stringify(res.body.message)).toMatch(/limit must be an integer from 1 to 1000/);
  });

  it('documents the endpoints with their schemas', async () => {
    const doc = (await http().get('/docs-json').expect(200)).body;
    expect(doc.paths['/anomalies/recent'].get.parameters[0]).toMatchObject({ name: 'limit', in: 'query' });
    expect(Object.keys(doc.paths['/anomalies/recent'].get.responses)).toEqual(expect.arrayContaining(['200', '400', '503']));
    expect(doc.components.schemas).toHaveProperty('AnomalySummaryDto');
  });

  it('answers 503 with a JSON error when storage is down, never a 200', async () => {
    await server.stop();
    try {
      // The baseline starts from its local copy; the index cannot be built: requests must not pretend nothing was processed.
      writeFileSync(localBaseline, fixture('baseline.json'));
      await boot();
      const res = await http().get('/anomalies/summary').expect(503);
      expect(res.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
      expect(res.body.message).toMatch(/Storage \w+ failed/);
      await http().get('/anomalies/recent').expect(503);
    } finally {
      server = await new S3TestServer({ buckets: ['reporting'] }).start();
    }
  });
});
