import { INestApplicationContext, Logger } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { BaselineService } from '../../src/baseline/baseline.service';
import { AppConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { createRng } from '../../src/detection/seeded-random';
import { BatchErrorReport } from '../../src/processing/batch-error-report';
import { MetricsModule } from '../../src/metrics/metrics.module';
import { MetricsService } from '../../src/metrics/metrics.service';
import { ProcessingModule } from '../../src/processing/processing.module';
import { ProcessingService } from '../../src/processing/processing.service';
import { ProcessingTuning } from '../../src/processing/processing.tuning';
import { generateBatch } from '../../src/producer/batch-generator';
import { LocalDirectoryStore } from '../../src/storage/local-directory.store';
import { ObjectInfo, ObjectStore, StorageError } from '../../src/storage/object-store';
import { StorageModule } from '../../src/storage/storage.module';

/** The local store, with reads of raw/ that fail on demand (an S3 outage, as seen by the pipeline). */
class FlakyStore extends LocalDirectoryStore {
  failReads = 0;
  reads = 0;
  override async open(key: string): Promise<{ stream: Readable; info: ObjectInfo } | null> {
    if (key.startsWith('raw/')) {
      this.reads++;
      if (this.failReads > 0) {
        this.failReads--;
        throw new StorageError('get', key, new Error('simulated outage'));
      }
    }
    return super.open(key);
  }
}

let dir: string;
let store: FlakyStore;
let app: INestApplicationContext;
let processing: ProcessingService;
let baseline: BaselineService;

async function boot(env: Record<string, string> = {}, tuningOverrides: Partial<ProcessingTuning> = {}): Promise<void> {
  const config = AppConfig.forTest({
    DATA_DIR: dir,
    BASELINE_LOCAL_PATH: path.join(dir, 'local-baseline.json'),
    // Cumulative statistics: the counts add up to what the summaries say was folded.
    BASELINE_HALF_LIFE: '0',
    LOCAL_WATCH: 'false',
    PROCESS_MAX_ATTEMPTS: '3',
    PROCESS_CONCURRENCY: '2',
    ...env,
  });
  const tuning = Object.assign(new ProcessingTuning(), { retryBaseDelayMs: 5, catchUpOnBoot: false, catchUpIntervalMs: 0, localSettleMs: 0, ...tuningOverrides });
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(config), ScheduleModule.forRoot(), MetricsModule, StorageModule, ProcessingModule],
  })
    .overrideProvider(ObjectStore)
    .useValue(store)
    .overrideProvider(ProcessingTuning)
    .useValue(tuning)
    .compile();
  moduleRef.useLogger(false);
  app = await moduleRef.init();
  processing = app.get(ProcessingService);
  baseline = app.get(BaselineService);
}

const rng = createRng(123);
const batch = (rows = 100, i = 0) =>
  generateBatch({ rows, start: new Date(Date.UTC(2026, 1, 24) + i * 6e6), rng, batchIndex: i }).csv;
const read = (key: string) => readFileSync(path.join(dir, key), 'utf8');
const exists = (key: string) => existsSync(path.join(dir, key));
const counts = () => Object.fromEntries(baseline.channels().map((c) => [c.channel, c.stats.count]));

beforeAll(() => Logger.overrideLogger(false));
beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'processing-int-'));
  store = new FlakyStore(dir);
  await boot();
});
afterEach(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ProcessingService', () => {
  it('scores a batch, writes its outputs, then folds it into the baseline', async () => {
    await store.put('raw/sensors_1.csv', batch());
    const info = (await store.head('raw/sensors_1.csv'))!;
    expect(processing.enqueue({ key: 'raw/sensors_1.csv', etag: info.etag, source: 'sns' })).toBe('queued');
    await processing.idle();
    const summary = JSON.parse(read('processed/sensors_1_summary.json'));
    expect(summary).toMatchObject({ source_key: 'raw/sensors_1.csv', output_key: 'processed/sensors_1.csv', total_rows: 100, etag: info.etag });
    expect(read('processed/sensors_1.csv').split('\n')).toHaveLength(102);
    expect(baseline.hasAbsorbed('raw/sensors_1.csv', info.etag)).toBe(true);
    const learned = counts();
    // Scored against the empty baseline (immature), and, as the reference does, the summary is
    // written after the fold and reports the counts the baseline holds then.
    expect(summary.baseline_mature).toEqual({ temperature: false, humidity: false, pressure: false, wind_speed: false });
    expect(summary.baseline_observation_counts).toEqual(learned);
    expect(learned.temperature).toBeGreaterThan(90);
    // Every value is learned once: as it is within its limits, at its limit beyond them.
    expect(learned.temperature).toBeCloseTo(summary.accepted_values.temperature + summary.limited_values.temperature, 3);
    expect(summary.accepted_values.temperature + summary.channel_anomaly_counts.temperature).toBeGreaterThanOrEqual(100);
    expect(processing.counters).toMatchObject({ queued: 0, running: 0, processed: 1, failed: 0 });
  });

  it('ignores keys outside raw/*.csv', () => {
    expect(processing.enqueue({ key: 'processed/x.csv', source: 'sns' })).toBe('ignored');
    expect(processing.enqueue({ key: 'raw/x.json', source: 'sns' })).toBe('ignored');
    expect(processing.counters.queued).toBe(0);
  });

  it('skips a version already absorbed, and rewrites missing outputs without absorbing again', async () => {
    await store.put('raw/a.csv', batch());
    const { etag } = (await store.head('raw/a.csv'))!;
    processing.enqueue({ key: 'raw/a.csv', etag, source: 'sns' });
    await processing.idle();
    const before = counts();
    const first = read('processed/a.csv');

    processing.enqueue({ key: 'raw/a.csv', etag, source: 'sns' }); // SNS redelivery, much later
    await processing.idle();
    expect(processing.counters.skipped).toBe(1);

    await store.delete('processed/a.csv');
    await store.delete('processed/a_summary.json');
    processing.enqueue({ key: 'raw/a.csv', etag, source: 'catch-up' });
    await processing.idle();
    expect(exists('processed/a.csv')).toBe(true);
    expect(exists('processed/a_summary.json')).toBe(true);
    expect(counts()).toEqual(before);
    // Rescored against the baseline as it is now (which has learned this batch): same rows, same columns.
    expect(read('processed/a.csv').split('\n').map((l) => l.split(',').slice(0, 5).join())).toEqual(
      first.split('\n').map((l) => l.split(',').slice(0, 5).join()),
    );
  });

  it('retries a storage failure with backoff, then succeeds', async () => {
    await store.put('raw/r.csv', batch());
    store.failReads = 2;
    processing.enqueue({ key: 'raw/r.csv', source: 'sns' });
    await processing.idle();
    expect(store.reads).toBe(3);
    expect(exists('processed/r_summary.json')).toBe(true);
    expect(exists('processed/r_error.json')).toBe(false);
    expect(processing.counters).toMatchObject({ processed: 1, failed: 0, retries: 2 });
  });

  it('records the failure in _error.json once the attempts are exhausted, absorbing nothing', async () => {
    await store.put('raw/down.csv', batch());
    store.failReads = 100;
    processing.enqueue({ key: 'raw/down.csv', source: 'sns' });
    await processing.idle();
    expect(store.reads).toBe(3); // PROCESS_MAX_ATTEMPTS
    const report: BatchErrorReport = JSON.parse(read('processed/down_error.json'));
    expect(report).toMatchObject({ source_key: 'raw/down.csv', kind: 'processing', retryable: true, attempts: 3, line: null });
    expect(report.error).toMatch(/simulated outage/);
    expect(exists('processed/down.csv')).toBe(false);
    expect(baseline.channels()).toEqual([]);
    expect(processing.counters).toMatchObject({ processed: 0, failed: 1, retries: 2 });
  });

  const badInputs: [string, string | Buffer, number | null, RegExp][] = [
    ['empty', '', null, /empty file/],
    ['header-only', 'timestamp,temperature,humidity\n', 2, /header only/],
    ['no-numeric', 'timestamp,site\n2026-01-01T00:00:00,a\n2026-01-01T00:01:00,b\n', 1, /no numeric column/],
    ['ragged', 'timestamp,temperature\n2026-01-01T00:00:00,1\n2026-01-01T00:01:00,2,3\n', 3, /ragged/],
    ['latin1', Buffer.concat([Buffer.from('timestamp,temperature\n2026,1\n'), Buffer.from('2026,temp\xe9rature\n', 'latin1')]), 3, /UTF-8/],
    ['wide', Array.from({ length: 10000 }, (_, i) => `c${i}`).join(',') + '\n', 1, /10000 fields/],
    ['not-csv', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x4b, 0x4c]), 1, /NUL|UTF-8/],
  ];

  it.each(badInputs)('rejects the %s file at once: error.json with the line, raw untouched, nothing absorbed', async (name, body, line, message) => {
    // A learned baseline first, to see that it does not move.
    await store.put('raw/good.csv', batch(200));
    processing.enqueue({ key: 'raw/good.csv', source: 'sns' });
    await processing.idle();
    const before = counts();
    const rawKey = `raw/${name}.csv`;
    await store.put(rawKey, body);
    const rawBefore = readFileSync(path.join(dir, rawKey));
    const reads = store.reads;

    processing.enqueue({ key: rawKey, source: 'sns' });
    await processing.idle();
    expect(store.reads - reads).toBe(1); // no retry for bad input
    const report: BatchErrorReport = JSON.parse(read(`processed/${name}_error.json`));
    expect(report).toMatchObject({ source_key: rawKey, kind: 'bad-input', retryable: false, attempts: 1, line });
    expect(report.error).toMatch(message);
    expect(readFileSync(path.join(dir, rawKey)).equals(rawBefore)).toBe(true);
    expect(exists(`processed/${name}.csv`)).toBe(false);
    expect(exists(`processed/${name}_summary.json`)).toBe(false);
    expect(counts()).toEqual(before);
    expect(baseline.hasAbsorbed(rawKey, (await store.head(rawKey))!.etag)).toBe(false);
    expect(processing.counters.failed).toBe(1);

    // The service keeps working.
    await store.put('raw/after.csv', batch(50, 1));
    processing.enqueue({ key: 'raw/after.csv', source: 'sns' });
    await processing.idle();
    expect(exists('processed/after_summary.json')).toBe(true);
  });

  it('catch-up queues every raw batch without a summary or an error report', async () => {
    await store.put('raw/done.csv', batch(20));
    processing.enqueue({ key: 'raw/done.csv', source: 'sns' });
    await processing.idle();
    await store.put('raw/failed.csv', '');
    processing.enqueue({ key: 'raw/failed.csv', source: 'sns' });
    await processing.idle();
    await store.put('raw/new1.csv', batch(20, 1));
    await store.put('raw/sub/new2.csv', batch(20, 2));
    await store.put('raw/notes.txt', 'not a batch');

    expect(await processing.scanRaw()).toEqual({ found: 4, queued: 2 });
    await processing.idle();
    expect(exists('processed/new1_summary.json')).toBe(true);
    expect(exists('processed/sub/new2_summary.json')).toBe(true);
    expect(await processing.scanRaw()).toEqual({ found: 4, queued: 0 });
  });

  it('catch-up retries a batch that failed for a storage reason once the report is old enough, never bad input', async () => {
    store.failReads = 99;
    await store.put('raw/outage.csv', batch(20));
    processing.enqueue({ key: 'raw/outage.csv', source: 'sns' });
    await processing.idle();
    expect(JSON.parse(read('processed/outage_error.json'))).toMatchObject({ retryable: true });
    store.failReads = 0;
    await store.put('raw/bad.csv', '');
    processing.enqueue({ key: 'raw/bad.csv', source: 'sns' });
    await processing.idle();
    expect(JSON.parse(read('processed/bad_error.json'))).toMatchObject({ retryable: false });

    expect(await processing.scanRaw()).toEqual({ found: 2, queued: 0 }); // the outage report is fresh
    await app.close();
    await boot({}, { retryFailedAfterMs: 0 });
    expect(await processing.scanRaw()).toEqual({ found: 2, queued: 1 });
    await processing.idle();
    expect(exists('processed/outage_summary.json')).toBe(true);
    expect(exists('processed/bad_summary.json')).toBe(false);
  });

  it('a failure that is not the storage\'s is recorded as final: catch-up does not run it again', async () => {
    await app.close();
    await boot({}, { retryFailedAfterMs: 0 });
    await store.put('raw/bug.csv', batch(20));
    const open = store.open.bind(store);
    store.open = async (key: string) => {
      if (key === 'raw/bug.csv') throw new TypeError('a bug, not an outage');
      return open(key);
    };
    processing.enqueue({ key: 'raw/bug.csv', source: 'sns' });
    await processing.idle();
    expect(JSON.parse(read('processed/bug_error.json'))).toMatchObject({ kind: 'processing', retryable: false });
    expect(await processing.scanRaw()).toEqual({ found: 1, queued: 0 });
  });

  it('refuses once a file whose outputs would have names too long for a file system, with a report it can write', async () => {
    // Copied in by hand: 249 bytes of name, which the file system takes, but not its outputs'.
    const name = 'x'.repeat(245);
    mkdirSync(path.join(dir, 'raw'), { recursive: true });
    writeFileSync(path.join(dir, 'raw', `${name}.csv`), batch(20));
    processing.enqueue({ key: `raw/${name}.csv`, source: 'sns' });
    await processing.idle();
    const reports = readdirSync(path.join(dir, 'processed')).filter((f) => f.endsWith('_error.json'));
    expect(reports).toHaveLength(1);
    expect(Buffer.byteLength(reports[0])).toBeLessThanOrEqual(255);
    expect(JSON.parse(read(`processed/${reports[0]}`))).toMatchObject({ retryable: false, error: expect.stringMatching(/file name is too long/) });
    expect(await processing.scanRaw()).toEqual({ found: 1, queued: 0 });
  });

  it('in local mode, leaves a file modified moments ago to the watcher', async () => {
    await app.close();
    await boot({}, { localSettleMs: 60_000 });
    await store.put('raw/copying.csv', batch(20));
    expect(await processing.scanRaw()).toEqual({ found: 1, queued: 0 });
  });

  it('at start-up, scans raw/ in the background and processes what arrived while it was down', async () => {
    await app.close();
    await store.put('raw/while_down_1.csv', batch(30));
    await store.put('raw/while_down_2.csv', batch(30, 1));
    await boot({}, { catchUpOnBoot: true, catchUpIntervalMs: 60_000 });
    await processing.scanRaw(); // joins the scan boot started
    await processing.idle();
    expect(exists('processed/while_down_1_summary.json')).toBe(true);
    expect(exists('processed/while_down_2_summary.json')).toBe(true);
    expect(processing.counters.processed).toBe(2);
  });

  it('counts batches, rows, anomalies and failures in the metrics', async () => {
    await store.put('raw/m1.csv', batch(200));
    await store.put('raw/m2.csv', 'a,b\n1\n');
    processing.enqueue({ key: 'raw/m1.csv', source: 'sns' });
    processing.enqueue({ key: 'raw/m2.csv', source: 'sns' });
    await processing.idle();
    const text = await app.get(MetricsService).registry.metrics();
    const summary = JSON.parse(read('processed/m1_summary.json'));
    expect(text).toMatch(/^anomaly_batches_processed_total 1$/m);
    expect(text).toMatch(/^anomaly_rows_scored_total 200$/m);
    expect(text).toMatch(/^anomaly_batches_failed_total\{reason="bad-input"\} 1$/m);
    expect(text).toMatch(/^anomaly_batch_duration_seconds_count 1$/m);
    expect(text).toMatch(/^anomaly_queue_depth 0$/m);
    const flagged = [...text.matchAll(/^anomaly_anomalies_flagged_total\{channel="[^"]+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(flagged).toBeGreaterThanOrEqual(summary.anomaly_count); // a row may count on several channels
  });

  it('processes a burst of batches, each exactly once, with at most PROCESS_CONCURRENCY at a time', async () => {
    const keys: string[] = [];
    for (let i = 0; i < 12; i++) {
      keys.push(`raw/burst_${i}.csv`);
      await store.put(keys[i], batch(50, i));
    }
    let peak = 0;
    const origOpen = store.open.bind(store);
    store.open = async (key: string) => {
      peak = Math.max(peak, processing.counters.running);
      return origOpen(key);
    };
    for (const key of keys) {
      expect(processing.enqueue({ key, source: 'sns' })).toBe('queued');
      expect(processing.enqueue({ key, source: 'local-watch' })).toBe('duplicate');
    }
    await processing.scanRaw(); // everything is queued or running: nothing new
    await processing.idle();
    expect(peak).toBe(2);
    expect(processing.counters).toMatchObject({ processed: 12, failed: 0 });
    for (const key of keys) expect(baseline.hasAbsorbed(key, (await store.head(key))!.etag)).toBe(true);
    const summaries = keys.map((k) => JSON.parse(read(k.replace('raw/', 'processed/').replace('.csv', '_summary.json'))));
    const total = summaries.reduce((n, s) => n + s.accepted_values.temperature + s.limited_values.temperature, 0);
    expect(counts().temperature).toBeCloseTo(total, 3); // every batch folded in once
  });
});
