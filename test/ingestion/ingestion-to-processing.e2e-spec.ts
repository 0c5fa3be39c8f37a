import { INestApplication } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { configureApp } from '../../src/app.setup';
import { AppConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { IngestionModule } from '../../src/ingestion/ingestion.module';
import { LocalRawWatcherOptions } from '../../src/ingestion/local-raw.watcher';
import { ProcessingModule } from '../../src/processing/processing.module';
import { ProcessingService } from '../../src/processing/processing.service';
import { ProcessingTuning } from '../../src/processing/processing.tuning';
import { StorageModule } from '../../src/storage/storage.module';
import { s3EventMessage, SnsTestSigner } from '../support/sns-signer';
import { waitFor } from '../support/wait-for';

/** A sample batch in the reference producer's format (copied into the repository's fixtures). */
async function sampleCsv(): Promise<string> {
  return fs.readFile(path.join(__dirname, '../processing/fixtures/sensors_20260224T001051.csv'), 'utf8');
}

/**
 * Ingestion wired to the real processing queue as app.module wires it: an announced raw batch is
 * scored and its outputs written, once — through SNS and through the local watcher.
 */
describe('ingestion -> processing (local directory store, real pipeline)', () => {
  let dataDir: string;
  let signer: SnsTestSigner;
  let app: INestApplication;
  let csv: string;

  beforeAll(async () => {
    csv = await sampleCsv();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ingestion-e2e-'));
    signer = await SnsTestSigner.start();
    const config = AppConfig.forTest({
      DATA_DIR: dataDir,
      BASELINE_LOCAL_PATH: path.join(dataDir, 'baseline.json'),
      SNS_TRUSTED_CERT_URL_PREFIXES: signer.trustedPrefix,
      LOCAL_WATCH: 'true',
    });
    const tuning = Object.assign(new ProcessingTuning(), { catchUpOnBoot: false, retryBaseDelayMs: 10 });
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(config),
        ScheduleModule.forRoot(),
        StorageModule,
        ProcessingModule,
        IngestionModule.register({ imports: [ProcessingModule], sink: { useExisting: ProcessingService } }),
      ],
    })
      .overrideProvider(ProcessingTuning)
      .useValue(tuning)
      .overrideProvider(LocalRawWatcherOptions)
      .useValue({ stableMs: 200, settleCheckMs: 25, pollIntervalMs: 200, rescanIntervalMs: 1000 })
      .compile();
    app = moduleRef.createNestApplication({ logger: false });
    configureApp(app);
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await signer?.close();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  const exists = (rel: string) =>
    fs.stat(path.join(dataDir, rel)).then(
      () => true,
      () => false,
    );

  it('scores a batch announced by a signed SNS notification (key with spaces and non-ASCII), once', async () => {
    const key = 'raw/site a/batch é 1.csv';
    await fs.mkdir(path.join(dataDir, 'raw/site a'), { recursive: true });
    await fs.writeFile(path.join(dataDir, key), csv);
    const env = signer.notification(s3EventMessage([{ key, eTag: 'etag-1', sequencer: '01' }]), { signatureVersion: 2 });
    const post = () =>
      request(app.getHttpServer())
        .post('/notify')
        .set('content-type', 'text/plain; charset=UTF-8')
        .set('x-amz-sns-message-type', 'Notification')
        .send(JSON.stringify(env));
    const res = await post();
    expect(res.status).toBe(200);
    expect(res.body.records).toEqual([{ key, outcome: 'queued' }]);
    expect((await post()).body.status).toBe('duplicate');

    const processing = app.get(ProcessingService);
    await processing.idle();
    expect(await exists('processed/site a/batch é 1.csv')).toBe(true);
    const summary = JSON.parse(await fs.readFile(path.join(dataDir, 'processed/site a/batch é 1_summary.json'), 'utf8'));
    expect(summary.source_key).toBe(key);
    expect(summary.total_rows).toBe(csv.trim().split('\n').length - 1);
    expect(processing.counters.processed).toBe(1);
  });

  it('scores a batch dropped into DATA_DIR/raw/ (local mode: the watcher plays S3 + SNS)', async () => {
    const processing = app.get(ProcessingService);
    const before = processing.counters.processed;
    const tmp = path.join(dataDir, 'raw', '.incoming.tmp');
    await fs.writeFile(tmp, csv);
    await fs.rename(tmp, path.join(dataDir, 'raw', 'dropped.csv'));
    await waitFor('processed/dropped_summary.json', () => exists('processed/dropped_summary.json'));
    await processing.idle();
    expect(await exists('processed/dropped.csv')).toBe(true);
    expect(processing.counters.processed).toBe(before + 1);
  });
});
