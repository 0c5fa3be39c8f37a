import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AppConfig } from '../../src/config/app-config';
import { createObjectStore } from '../../src/storage/storage.module';
import {
  batchKey,
  parseProducerArgs,
  ProducerOptions,
  runProducer,
  TruthRecord,
  UsageError,
} from '../../scripts/producer';

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'producer.ts');
const TS_NODE = require.resolve('ts-node/dist/bin.js');
const KEY_PATTERN = /^raw\/sensors_\d{8}T\d{6}\.csv$/;
const CHANNELS = { temperature: [22, 1.5], humidity: [55, 5], pressure: [1013, 3], wind_speed: [10, 2.5] } as const;
const silent = { log: () => undefined };

describe('producer', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'producer-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const options = (over: Partial<ProducerOptions> = {}): ProducerOptions => ({
    interval: 0,
    rows: 100,
    count: 2,
    seed: 7,
    profile: 'reference',
    truthFile: path.join(dir, 'truth.jsonl'),
    ...over,
  });
  const localStore = () => createObjectStore(AppConfig.forTest({ DATA_DIR: path.join(dir, 'data') }));

  it('writes --count batches of --rows rows to DATA_DIR/raw/ with the truth of each', async () => {
    const fixed = Date.UTC(2026, 1, 24, 0, 10, 51, 400);
    const keys = await runProducer(options(), { store: localStore(), now: () => fixed, logger: silent });

    // Same second for both batches: the second one moves to the next second instead of overwriting.
    expect(keys).toEqual(['raw/sensors_20260224T001051.csv', 'raw/sensors_20260224T001052.csv']);
    expect((await readdir(path.join(dir, 'data', 'raw'))).sort()).toEqual(keys.map((k) => path.basename(k)));

    const truth = (await readFile(path.join(dir, 'truth.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as TruthRecord);
    expect(truth.map((t) => t.key)).toEqual(keys);

    for (const record of truth) {
      const lines = (await readFile(path.join(dir, 'data', record.key), 'utf8')).trim().split('\n');
      expect(lines[0]).toBe('timestamp,temperature,humidity,pressure,wind_speed');
      expect(lines).toHaveLength(101);
      // The first row's timestamp is the file name's time, as in the reference producer's files.
      const stamp = record.key.slice('raw/sensors_'.length, -'.csv'.length);
      expect(lines[1].split(',')[0].replace(/[-:]/g, '').slice(0, 15)).toBe(stamp);
      // max(1, rows/20) injected anomalies, each really 4.5+ std out on its channel (5-8 std pushed).
      expect(record.anomalies).toHaveLength(5);
      for (const { row, channel } of record.anomalies) {
        const column = lines[0].split(',').indexOf(channel);
        const value = Number(lines[1 + row].split(',')[column]);
        const [mean, std] = CHANNELS[channel as keyof typeof CHANNELS];
        expect(Math.abs(value - mean) / std).toBeGreaterThan(4.5);
      }
    }
  });

  it('reproduces a run exactly from its seed, and differs with another seed', async () => {
    const now = () => Date.UTC(2026, 1, 24);
    const run = async (sub: string, seed: number) => {
      const store = createObjectStore(AppConfig.forTest({ DATA_DIR: path.join(dir, sub) }));
      const keys = await runProducer(options({ seed, truthFile: undefined }), { store, now, logger: silent });
      return Promise.all(keys.map((k) => store.getText(k)));
    };
    const a = await run('a', 11);
    expect(await run('b', 11)).toEqual(a);
    expect(await run('c', 12)).not.toEqual(a);
  });

  it('never overwrites a batch already in raw/', async () => {
    const store = localStore();
    const at = Date.UTC(2026, 1, 24, 0, 10, 51);
    await store.put(batchKey(new Date(at)), 'earlier run\n');
    const keys = await runProducer(options({ count: 1 }), { store, now: () => at, logger: silent });
    expect(keys).toEqual(['raw/sensors_20260224T001052.csv']);
    expect(await store.getText('raw/sensors_20260224T001051.csv')).toBe('earlier run\n');
  });

  it('on Ctrl+C during a write, finishes that write (and its truth line), then stops', async () => {
    const store = localStore();
    const stop = new AbortController();
    const put = store.put.bind(store);
    // Ctrl+C arrives while the second batch is being written.
    let puts = 0;
    store.put = async (...args: Parameters<typeof put>) => {
      if (++puts === 2) stop.abort();
      await put(...args);
    };
    const keys = await runProducer(options({ count: undefined, interval: 0 }), { store, signal: stop.signal, logger: silent });
    expect(keys).toHaveLength(2);
    for (const key of keys) expect((await store.getText(key))?.split('\n')).toHaveLength(102);
    const truth = (await readFile(path.join(dir, 'truth.jsonl'), 'utf8')).trim().split('\n');
    expect(truth.map((l) => (JSON.parse(l) as TruthRecord).key)).toEqual(keys);
  });

  it('parses its options and rejects bad ones with a usage error', () => {
    expect(parseProducerArgs([], 99)).toEqual({
      interval: 60,
      rows: 100,
      count: undefined,
      seed: 99,
      truthFile: undefined,
      profile: 'reference',
    });
    expect(parseProducerArgs(['--interval', '0.5', '--rows', '20', '--count', '3', '--seed=-4', '--truth', 't.jsonl'])).toMatchObject({
      interval: 0.5,
      rows: 20,
      count: 3,
      seed: -4,
      truthFile: 't.jsonl',
    });
    expect(parseProducerArgs(['--help'])).toBe('help');
    for (const bad of [['--rows', '0'], ['--rows', '2.5'], ['--interval', '-1'], ['--count', 'x'], ['--profile', 'nope'], ['--bogus']]) {
      expect(() => parseProducerArgs(bad)).toThrow(UsageError);
    }
  });

  const runCli = (args: string[], dataDir: string) => {
    const child = spawn(process.execPath, [TS_NODE, '--transpile-only', SCRIPT, ...args], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: dataDir, BUCKET_NAME: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = { text: '' };
    child.stdout.on('data', (d: Buffer) => (out.text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out.text += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, out, exited };
  };

  it('as `npm run producer -- --count 2 --interval 0`: writes two batches and exits 0', async () => {
    const dataDir = path.join(dir, 'data');
    const truthFile = path.join(dir, 'truth.jsonl');
    const { out, exited } = runCli(['--count', '2', '--interval', '0', '--seed', '5', '--truth', truthFile], dataDir);
    expect(await exited).toBe(0);
    const files = (await readdir(path.join(dataDir, 'raw'))).sort();
    expect(files).toHaveLength(2);
    for (const f of files) expect(`raw/${f}`).toMatch(KEY_PATTERN);
    const truth = (await readFile(truthFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as TruthRecord);
    expect(truth.map((t) => t.key)).toEqual(files.map((f) => `raw/${f}`));
    expect(out.text).toContain('Stopped after 2 batch(es)');
  });

  it('as `npm run producer`: writes a batch, then stops cleanly on Ctrl+C while waiting', async () => {
    const dataDir = path.join(dir, 'data');
    const { child, out, exited } = runCli(['--interval', '60', '--seed', '3'], dataDir);

    // The first batch is written at once; then the producer sleeps for 60 s.
    const deadline = Date.now() + 30_000;
    while (!out.text.includes('Wrote raw/sensors_') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(out.text).toContain('Wrote raw/sensors_');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out.text).toContain('Stopped after 1 batch(es)');
    const files = await readdir(path.join(dataDir, 'raw'));
    expect(files).toHaveLength(1);
    expect(`raw/${files[0]}`).toMatch(KEY_PATTERN);
  });
});
