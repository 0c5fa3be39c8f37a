import '../support/loopback-aws-env';
import { INestApplicationContext, Logger } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BaselineService } from '../../src/baseline/baseline.service';
import { AppConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { MetricsModule } from '../../src/metrics/metrics.module';
import { MetricsService } from '../../src/metrics/metrics.service';
import { createRng } from '../../src/detection/seeded-random';
import { BatchErrorReport } from '../../src/processing/batch-error-report';
import { ProcessingModule } from '../../src/processing/processing.module';
import { ProcessingService } from '../../src/processing/processing.service';
import { ProcessingTuning } from '../../src/processing/processing.tuning';
import { generateBatch } from '../../src/producer/batch-generator';
import { ObjectStore } from '../../src/storage/object-store';
import { S3Store } from '../../src/storage/s3.store';
import { StorageModule } from '../../src/storage/storage.module';
import { S3TestServer } from '../support/s3-test-server';
import { waitFor } from '../support/wait-for';

/**
 * Batches scored on worker threads (PROCESS_WORKERS > 0, the service's default), through the real
 * stores: the worker builds its own store from the configuration, so these tests inject faults
 * through the storage itself (a stopped S3 server), not through a wrapped store.
 */

interface Booted {
  app: INestApplicationContext;
  processing: ProcessingService;
  baseline: BaselineService;
  store: ObjectStore;
}

const apps: INestApplicationContext[] = [];
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'batch-workers-'));
  dirs.push(dir);
  return dir;
}

async function boot(env: Record<string, string>, tuning: Partial<ProcessingTuning> = {}): Promise<Booted> {
  const config = AppConfig.forTest({ LOCAL_WATCH: 'false', ...env });
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(config), ScheduleModule.forRoot(), MetricsModule, StorageModule, ProcessingModule],
  })
    .overrideProvider(ProcessingTuning)
    .useValue(Object.assign(new ProcessingTuning(), { retryBaseDelayMs: 200, retryMaxDelayMs: 500, catchUpOnBoot: false, catchUpIntervalMs: 0, ...tuning }))
    .compile();
  moduleRef.useLogger(false);
  const app = await moduleRef.init();
  apps.push(app);
  return { app, processing: app.get(ProcessingService), baseline: app.get(BaselineService), store: app.get(ObjectStore) };
}

/** Producer batches with injected anomalies; the same list every call. */
function batches(n: number, rows = 100): { key: string; csv: string }[] {
  const rng = createRng(77);
  return Array.from({ length: n }, (_, i) => ({
    key: `raw/b-${String(i).padStart(3, '0')}.csv`,
    csv: generateBatch({ rows, start: new Date(Date.UTC(2026, 2, 1) + i * rows * 60_000), rng, batchIndex: i }).csv,
  }));
}

/** Processes the batches one at a time, in order (so both runs see the same baseline at each step). */
async function inOrder(b: Booted, list: { key: string; csv: string }[]): Promise<void> {
  for (const { key, csv } of list) {
    await b.store.put(key, csv);
    expect(b.processing.enqueue({ key, source: 'catch-up' })).toBe('queued');
    await b.processing.idle();
  }
}

/** A summary without what differs between two runs: times, and the local ETag (size, mtime, inode). */
const comparable = (summary: string) => {
  const { processed_at, duration_ms, etag, ...rest } = JSON.parse(summary) as Record<string, unknown>;
  expect(typeof processed_at).toBe('string');
  expect(typeof duration_ms).toBe('number');
  expect(typeof etag).toBe('string');
  return rest;
};

beforeAll(() => Logger.overrideLogger(false));
afterEach(async () => {
  while (apps.length) await apps.pop()!.close();
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

describe('batch worker threads', () => {
  it('write the same bytes and fold the same baseline as scoring on the service thread', async () => {
    // 30 batches: the reference window commits every 1,024 rows, so forests are fitted (in the worker
    // from the window it is sent) and both isolation and joint tests take part.
    const list = batches(30);
    const runs: Record<string, { dir: string; baseline: unknown }> = {};
    for (const workers of ['0', '1']) {
      const dir = tempDir();
      const b = await boot({ DATA_DIR: dir, BASELINE_LOCAL_PATH: path.join(dir, 'baseline.json'), PROCESS_WORKERS: workers, PROCESS_CONCURRENCY: '1' });
      await inOrder(b, list);
      expect(b.processing.counters).toMatchObject({ processed: 30, failed: 0, retries: 0 });
      runs[workers] = { dir, baseline: b.baseline.channels() };
    }
    const [onThread, onWorker] = [runs['0'], runs['1']];
    const files = readdirSync(path.join(onThread.dir, 'processed')).sort();
    expect(files).toHaveLength(60);
    expect(readdirSync(path.join(onWorker.dir, 'processed')).sort()).toEqual(files);
    let scoredIf = 0;
    for (const f of files) {
      const a = readFileSync(path.join(onThread.dir, 'processed', f), 'utf8');
      const w = readFileSync(path.join(onWorker.dir, 'processed', f), 'utf8');
      if (f.endsWith('_summary.json')) expect(comparable(w)).toEqual(comparable(a));
      else {
        expect(w).toBe(a);
        // The later batches carry forest scores (if_score is empty until there is a forest).
        const [header, ...rows] = w.trim().split('\n');
        const at = header.split(',').indexOf('if_score');
        expect(at).toBeGreaterThan(0);
        if (rows.every((r) => r.split(',')[at] !== '')) scoredIf++;
      }
    }
    expect(scoredIf).toBeGreaterThan(20);
    expect(onWorker.baseline).toEqual(onThread.baseline);
  }, 120_000);

  describe('through S3', () => {
    let storageDir: string;
    let server: S3TestServer;

    beforeAll(async () => {
      storageDir = mkdtempSync(path.join(os.tmpdir(), 'batch-workers-s3-'));
      server = await new S3TestServer({ buckets: ['workers-many', 'workers-outage'], storageDir }).start();
    });
    afterAll(async () => {
      await server.stop();
      rmSync(storageDir, { recursive: true, force: true });
    });

    const env = (bucket: string, dir: string, workers: string) => ({
      BUCKET_NAME: bucket,
      S3_ENDPOINT: server.endpoint,
      BASELINE_LOCAL_PATH: path.join(dir, 'baseline.json'),
      PROCESS_WORKERS: workers,
      PROCESS_CONCURRENCY: '4',
      // Every value folds in, cumulatively, so the counts are exactly the rows.
      BASELINE_INCLUDE_ANOMALIES: 'true',
      BASELINE_HALF_LIFE: '0',
    });

    it('scores many batches on two threads, records bad input, and skips a missing object', async () => {
      const dir = tempDir();
      const b = await boot(env('workers-many', dir, '2'));
      const list = batches(24).map((x) => ({ ...x, key: x.key.replace('raw/', 'raw/many-') }));
      await Promise.all(list.map(({ key, csv }) => b.store.put(key, csv)));
      await b.store.put('raw/many-bad.csv', 'timestamp,temperature\n2026-03-01T00:00:00Z,20.5\n2026-03-01T00:01:00Z,21,7\n');
      for (const { key } of list) b.processing.enqueue({ key, source: 'catch-up' });
      b.processing.enqueue({ key: 'raw/many-bad.csv', source: 'catch-up' });
      b.processing.enqueue({ key: 'raw/many-gone.csv', source: 'catch-up' });
      await b.processing.idle();

      // The missing object counts as a job done (with nothing to do), as on the service thread.
      expect(b.processing.counters).toMatchObject({ processed: 25, failed: 1, retries: 0 });
      for (const { key } of list) {
        const name = key.slice('raw/'.length, -'.csv'.length);
        expect((await b.store.getText(`processed/${name}.csv`))!.trim().split('\n')).toHaveLength(101);
        expect(JSON.parse((await b.store.getText(`processed/${name}_summary.json`))!)).toMatchObject({ total_rows: 100, source_key: key });
      }
      const report = JSON.parse((await b.store.getText('processed/many-bad_error.json'))!) as BatchErrorReport;
      expect(report).toMatchObject({ kind: 'bad-input', line: 3, retryable: false, attempts: 1 });
      expect(await b.store.head('processed/many-bad.csv')).toBeNull();
      expect(await b.store.head('processed/many-gone_error.json')).toBeNull();
      for (const c of b.baseline.channels()) expect(c.stats.count).toBe(2400);

      // Queued again (a catch-up scan racing the summary): this version is absorbed and summarised,
      // so the worker's open is discarded and nothing is written or folded.
      const [first] = list;
      const scored = await b.store.head('processed/many-b-000.csv');
      b.processing.enqueue({ key: first.key, source: 'catch-up' });
      await b.processing.idle();
      expect(b.processing.counters.skipped).toBe(1);
      expect((await b.store.head('processed/many-b-000.csv'))!.etag).toBe(scored!.etag);
      // Absorbed but the summary lost: the outputs are written again, nothing folded twice.
      await b.store.delete('processed/many-b-001_summary.json');
      b.processing.enqueue({ key: list[1].key, source: 'catch-up' });
      await b.processing.idle();
      expect(JSON.parse((await b.store.getText('processed/many-b-001_summary.json'))!)).toMatchObject({ total_rows: 100 });
      for (const c of b.baseline.channels()) expect(c.stats.count).toBe(2400);
    }, 120_000);

    it('rides out an S3 outage: the batch fails on the worker, is retried, and lands once', async () => {
      const dir = tempDir();
      const b = await boot(env('workers-outage', dir, '1'), { retryBaseDelayMs: 300, retryMaxDelayMs: 300 });
      const [{ csv }] = batches(1);
      await b.store.put('raw/outage.csv', csv);
      await server.stop();
      expect(b.processing.enqueue({ key: 'raw/outage.csv', source: 'sns' })).toBe('queued');
      // The worker's read fails, comes back as a StorageError and is retried, not recorded as failed.
      await waitFor('a retry of the batch', () => b.processing.counters.retries > 0, 60_000);
      expect(b.processing.counters.failed).toBe(0);
      await server.start();
      await b.processing.idle();
      expect(b.processing.counters).toMatchObject({ processed: 1, failed: 0 });
      const fresh = new S3Store({ bucket: 'workers-outage', region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true });
      try {
        expect(JSON.parse((await fresh.getText('processed/outage_summary.json'))!)).toMatchObject({ total_rows: 100 });
      } finally {
        fresh.destroy();
      }
      for (const c of b.baseline.channels()) expect(c.stats.count).toBe(100);
    }, 120_000);
  });

  it('retries the batches of a thread that died, on a new thread, and reports the crash', async () => {
    const dir = tempDir();
    const b = await boot(
      { DATA_DIR: dir, BASELINE_LOCAL_PATH: path.join(dir, 'baseline.json'), PROCESS_WORKERS: '1', PROCESS_MAX_ATTEMPTS: '2' },
      { retryBaseDelayMs: 10, batchWorkerModule: '../../test/processing/workers/exiting.worker' },
    );
    const [{ csv }] = batches(1);
    await b.store.put('raw/crash.csv', csv);
    b.processing.enqueue({ key: 'raw/crash.csv', source: 'sns' });
    await b.processing.idle();
    // Each attempt met a thread that died; both were counted and the batch recorded, not lost.
    expect(b.processing.counters).toMatchObject({ failed: 1, retries: 1, processed: 0 });
    const report = JSON.parse((await b.store.getText('processed/crash_error.json'))!) as BatchErrorReport;
    expect(report).toMatchObject({ kind: 'processing', attempts: 2 });
    expect(report.error).toMatch(/batch worker exited with code 3/);
    expect(await b.app.get(MetricsService).registry.getSingleMetricAsString('anomaly_batch_worker_crashes_total')).toMatch(
      /^anomaly_batch_worker_crashes_total 2$/m,
    );
  }, 60_000);
});
