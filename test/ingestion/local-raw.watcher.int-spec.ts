import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import * as fsSync from 'node:fs';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AppConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { BatchSink, EnqueueOutcome, IngestJob } from '../../src/ingestion/batch-sink';
import { IngestionModule } from '../../src/ingestion/ingestion.module';
import { LocalRawWatcher, LocalRawWatcherOptions } from '../../src/ingestion/local-raw.watcher';
import { ObjectStore } from '../../src/storage/object-store';
import { StorageModule } from '../../src/storage/storage.module';
import { waitFor } from '../support/wait-for';

const SAMPLE = 'timestamp,temperature,humidity,pressure,wind_speed\n2026-01-01T00:00:00Z,20.1,40.2,1013.2,3.4\n';

/** Records each job with the file's size at the moment it was handed over. */
class SizeRecordingSink extends BatchSink {
  readonly jobs: Array<IngestJob & { sizeAtEnqueue: number }> = [];
  failures = 0;

  constructor(private readonly dataDir: string) {
    super();
  }

  enqueue(job: IngestJob): EnqueueOutcome {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('queue full');
    }
    this.jobs.push({ ...job, sizeAtEnqueue: fsSync.statSync(path.join(this.dataDir, job.key)).size });
    return 'queued';
  }
}

describe('LocalRawWatcher (local mode: DATA_DIR/raw/ feeds the batch sink)', () => {
  let dataDir: string;
  let rawDir: string;
  let app: INestApplication | undefined;
  let sink: SizeRecordingSink;
  let watcher: LocalRawWatcher;
  let store: ObjectStore;

  const options: LocalRawWatcherOptions = { stableMs: 200, settleCheckMs: 25, pollIntervalMs: 200, rescanIntervalMs: 60_000 };

  async function start(env: Record<string, string> = {}, timings: Partial<LocalRawWatcherOptions> = {}): Promise<void> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(AppConfig.forTest({ DATA_DIR: dataDir, ...env })),
        StorageModule,
        IngestionModule.register({ sink: { useValue: sink } }),
      ],
    })
      .overrideProvider(LocalRawWatcherOptions)
      .useValue({ ...options, ...timings })
      .compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    watcher = app.get(LocalRawWatcher);
    store = app.get(ObjectStore);
  }

  /** Waits until everything the watcher has seen is handed over or dropped, after a full listing. */
  async function settled(): Promise<void> {
    await watcher.poll();
    await waitFor('pending files to settle', () => watcher.pendingCount === 0);
  }

  beforeEach(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ingestion-watch-'));
    rawDir = path.join(dataDir, 'raw');
    sink = new SizeRecordingSink(dataDir);
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    jest.restoreAllMocks();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('leaves files that were there at start-up to the catch-up scan, and enqueues new ones once with their etag', async () => {
    await fs.mkdir(rawDir, { recursive: true });
    await fs.writeFile(path.join(rawDir, 'old.csv'), SAMPLE);
    await start();
    await store.put('raw/new batch é.csv', SAMPLE); // temp file + rename, like most tools
    await waitFor('new batch', () => sink.jobs.length > 0);
    await settled();
    const head = await store.head('raw/new batch é.csv');
    expect(sink.jobs).toEqual([{ key: 'raw/new batch é.csv', etag: head!.etag, source: 'local-watch', sizeAtEnqueue: SAMPLE.length }]);
  });

  it('waits until a file written in pieces stops growing before enqueueing it, once', async () => {
    // A long settle time against short pauses between writes: a margin no busy CI machine erases.
    const stableMs = 1000;
    await start({}, { stableMs });
    const file = path.join(rawDir, 'slow.csv');
    const handle = await fs.open(file, 'w');
    const rows = Array.from({ length: 8 }, (_, i) => `2026-01-01T00:0${i}:00Z,20.${i},40,1013,3\n`);
    await handle.write('timestamp,temperature,humidity,pressure,wind_speed\n');
    for (const row of rows) {
      await new Promise((r) => setTimeout(r, stableMs / 50));
      await handle.write(row);
      await handle.sync();
    }
    await handle.close();
    const finalSize = (await fs.stat(file)).size;
    await waitFor('slow file', () => sink.jobs.length > 0);
    await settled();
    expect(sink.jobs.map((j) => [j.key, j.sizeAtEnqueue])).toEqual([['raw/slow.csv', finalSize]]);
  });

  it('ignores other suffixes, hidden files, temporary files and subdirectories', async () => {
    await start();
    await fs.writeFile(path.join(rawDir, 'notes.json'), '{}');
    await fs.writeFile(path.join(rawDir, '.partial.csv'), SAMPLE);
    await fs.writeFile(path.join(rawDir, 'x.csv.tmp-abc123'), SAMPLE);
    await fs.mkdir(path.join(rawDir, 'dir.csv'));
    await fs.writeFile(path.join(rawDir, 'good.csv'), SAMPLE);
    await waitFor('good file', () => sink.jobs.length > 0);
    await settled();
    expect(sink.jobs.map((j) => j.key)).toEqual(['raw/good.csv']);
  });

  it('enqueues a rewritten file again, with its new etag', async () => {
    await start();
    await store.put('raw/r.csv', SAMPLE);
    await waitFor('first version', () => sink.jobs.length === 1);
    await store.put('raw/r.csv', SAMPLE + '2026-01-01T01:00:00Z,1,2,3,4\n');
    await waitFor('second version', () => sink.jobs.length === 2);
    await settled();
    expect(sink.jobs).toHaveLength(2);
    expect(sink.jobs[0].etag).not.toBe(sink.jobs[1].etag);
    expect(sink.jobs[1].etag).toBe((await store.head('raw/r.csv'))!.etag);
  });

  it('finds new files by listing when fs.watch is not available', async () => {
    // The module object the watcher calls through (the namespace import above is frozen).
    const fsModule = require('node:fs') as typeof import('node:fs');
    const watch = jest.spyOn(fsModule, 'watch').mockImplementation(() => {
      throw Object.assign(new Error('watch not supported'), { code: 'ENOSYS' });
    });
    await start();
    expect(watch).toHaveBeenCalled();
    await fs.writeFile(path.join(rawDir, 'polled.csv'), SAMPLE);
    await waitFor('polled file', () => sink.jobs.length > 0);
    expect(sink.jobs.map((j) => j.key)).toEqual(['raw/polled.csv']);
  });

  it('finds a file whose fs.watch event never came, at the next rescan', async () => {
    const fsModule = require('node:fs') as typeof import('node:fs');
    const { EventEmitter } = await import('node:events');
    // A watcher that stays silent, like fs.watch on some network filesystems.
    jest.spyOn(fsModule, 'watch').mockImplementation(() => Object.assign(new EventEmitter(), { close: () => undefined }) as never);
    await start({}, { rescanIntervalMs: 300 });
    await fs.writeFile(path.join(rawDir, 'missed.csv'), SAMPLE);
    await waitFor('missed file', () => sink.jobs.length > 0);
    expect(sink.jobs.map((j) => j.key)).toEqual(['raw/missed.csv']);
  });

  it('keeps a file it could not hand over and retries until the sink takes it', async () => {
    await start();
    sink.failures = 2;
    await fs.writeFile(path.join(rawDir, 'retry.csv'), SAMPLE);
    await waitFor('retried file', () => sink.jobs.length > 0);
    await settled();
    expect(sink.failures).toBe(0);
    expect(sink.jobs.map((j) => j.key)).toEqual(['raw/retry.csv']);
  });

  it.each([
    ['LOCAL_WATCH=false', { LOCAL_WATCH: 'false' }],
    ['a bucket is configured (S3 mode)', { BUCKET_NAME: 'some-bucket', LOCAL_WATCH: 'true' }],
  ])('does not watch when %s', async (_why, env) => {
    await start(env);
    await fs.mkdir(rawDir, { recursive: true });
    await fs.writeFile(path.join(rawDir, 'unwatched.csv'), SAMPLE);
    await watcher.poll(); // a direct look is also a no-op: nothing was set up to be watched
    await new Promise((r) => setTimeout(r, options.stableMs * 2));
    expect(watcher.enabled).toBe(false);
    expect(sink.jobs).toEqual([]);
  });
});

describe('LocalRawWatcher: errors in its timers and event handlers', () => {
  // Work started by a timer or an event has no caller to reject to: an error escaping there is an
  // unhandled rejection (or exception), which ends the process. Logging that throws stands in for
  // any unexpected failure on those paths.
  let dataDir: string;
  let app: INestApplication | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeEach(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ingestion-watch-errors-'));
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });

  afterEach(async () => {
    process.off('unhandledRejection', onUnhandled);
    jest.restoreAllMocks();
    await app?.close();
    app = undefined;
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  const keys: string[] = [];

  async function start(): Promise<LocalRawWatcher> {
    keys.length = 0;
    const sink: BatchSink = { enqueue: (job: IngestJob) => (keys.push(job.key), 'queued' as EnqueueOutcome) };
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(AppConfig.forTest({ DATA_DIR: dataDir })),
        StorageModule,
        IngestionModule.register({ sink: { useValue: sink } }),
      ],
    })
      .overrideProvider(LocalRawWatcherOptions)
      .useValue({ stableMs: 50, settleCheckMs: 20, pollIntervalMs: 50, rescanIntervalMs: 50 })
      .compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return app.get(LocalRawWatcher);
  }

  it('keeps polling when a periodic listing fails and reporting it fails too, with no unhandled rejection', async () => {
    const fsModule = require('node:fs') as typeof import('node:fs');
    jest.spyOn(fsModule, 'watch').mockImplementation(() => {
      throw Object.assign(new Error('watch not supported'), { code: 'ENOSYS' });
    });
    await start();
    const { Logger } = await import('@nestjs/common');
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {
      throw new Error('logger broke');
    });
    // raw/ becomes a file: every listing fails with ENOTDIR, and the watcher warns about it.
    await fs.rm(path.join(dataDir, 'raw'), { recursive: true });
    await fs.writeFile(path.join(dataDir, 'raw'), 'not a directory');
    await waitFor('two failed listings', () => warn.mock.calls.length >= 2);
    await new Promise((r) => setImmediate(r)); // let a rejection from the last listing surface
    expect(unhandled).toEqual([]);
  });

  it('survives an fs.watch error whose report fails, and falls back to listing', async () => {
    const fsModule = require('node:fs') as typeof import('node:fs');
    const { EventEmitter } = await import('node:events');
    const fake = Object.assign(new EventEmitter(), { close: jest.fn() });
    jest.spyOn(fsModule, 'watch').mockImplementation(() => fake as never);
    await start();
    const { Logger } = await import('@nestjs/common');
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {
      throw new Error('logger broke');
    });
    expect(() => fake.emit('error', new Error('EMFILE'))).not.toThrow();
    await new Promise((r) => setImmediate(r));
    expect(fake.close).toHaveBeenCalled();
    expect(unhandled).toEqual([]);
    // Still finds new files, by listing now.
    await fs.writeFile(path.join(dataDir, 'raw', 'after.csv'), SAMPLE);
    await waitFor('after.csv', () => keys.length > 0);
    expect(keys).toEqual(['raw/after.csv']);
  });
});
