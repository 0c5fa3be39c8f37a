import '../support/loopback-aws-env';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BaselineState } from '../../src/baseline/baseline-state';
import { createRng } from '../../src/detection/seeded-random';
import { BadInputError } from '../../src/processing/bad-input.error';
import { batchKeys } from '../../src/processing/batch-keys';
import { PipelineSettings, processBatch } from '../../src/processing/batch-pipeline';
import { generateBatch } from '../../src/producer/batch-generator';
import { LocalDirectoryStore } from '../../src/storage/local-directory.store';
import { S3Store } from '../../src/storage/s3.store';
import { S3TestServer } from '../support/s3-test-server';
import { AppConfig } from '../../src/config/app-config';
import { pipelineSettings } from '../../src/processing/pipeline-settings';

const server = new S3TestServer({ buckets: ['pipeline-a', 'pipeline-b'] });
let s3: S3Store[] = [];
let dir: string;

beforeAll(() => server.start());
afterAll(async () => {
  s3.forEach((s) => s.destroy());
  await server.stop();
});
beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-s3-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The service's defaults. */
const settings: PipelineSettings = pipelineSettings(AppConfig.forTest({}));
const store = (bucket: string) => {
  const s = new S3Store({ bucket, region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, maxAttempts: 2 });
  s3.push(s);
  return s;
};

describe('processBatch through S3', () => {
  it('writes the same scored bytes to S3 as to the local store', async () => {
    const bucket = store('pipeline-a');
    const local = new LocalDirectoryStore(dir);
    const csv = generateBatch({ rows: 3000, start: new Date(Date.UTC(2026, 1, 1)), rng: createRng(4) }).csv;
    await bucket.put('raw/s.csv', csv);
    await local.put('raw/s.csv', csv);
    const snapshot = BaselineState.empty({ minCount: 30, includeAnomalies: false }).snapshot();
    const a = await processBatch(bucket, { keys: batchKeys('raw/s.csv') }, snapshot, settings);
    await processBatch(local, { keys: batchKeys('raw/s.csv') }, snapshot, settings);
    expect(await bucket.getText('processed/s.csv')).toBe(readFileSync(path.join(dir, 'processed/s.csv'), 'utf8'));
    expect(JSON.parse((await bucket.getText('processed/s_summary.json'))!)).toEqual(a.summary);
  });

  it('leaves nothing in processed/ when the file turns bad after a multipart part was sent', async () => {
    const bucket = store('pipeline-b');
    // ~5 MB in, ~10 MB out: the scored CSV has sent a first 8 MB part when the bad row is read.
    const csv = generateBatch({ rows: 100000, start: new Date(Date.UTC(2026, 1, 1)), rng: createRng(6) }).csv;
    await bucket.put('raw/late.csv', csv + 'x,1\n');
    const snapshot = BaselineState.empty({ minCount: 30, includeAnomalies: false }).snapshot();
    const err = await processBatch(bucket, { keys: batchKeys('raw/late.csv') }, snapshot, settings).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as BadInputError).line).toBe(100002);
    const left: string[] = [];
    for await (const o of bucket.list('processed/')) left.push(o.key);
    expect(left).toEqual([]);
    expect(await bucket.head('raw/late.csv')).not.toBeNull();
  });
});
