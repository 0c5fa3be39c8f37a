import { Global, Logger, Module } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test, TestingModule } from '@nestjs/testing';
import { mkdtempSync, promises as fs, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BaselineLoadError } from '../../src/baseline/baseline.errors';
import { BaselineModule } from '../../src/baseline/baseline.module';
import { BASELINE_KEY, BaselineService } from '../../src/baseline/baseline.service';
import { BaselineState } from '../../src/baseline/baseline-state';
import { BASELINE_FLUSH_INTERVAL_NAME } from '../../src/baseline/baseline-flush.task';
import { BatchContribution } from '../../src/baseline/batch-contribution';
import { AppConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { LocalDirectoryStore } from '../../src/storage/local-directory.store';
import { ObjectBody, ObjectStore } from '../../src/storage/object-store';
import { contributionOf, gaussianRows, rng } from './contribution-builder';

const COLUMNS = ['temperature', 'humidity', 'pressure', 'wind_speed'];
const MEANS = [22, 55, 1013, 10];
const STDS = [1.5, 5, 3, 2.5];

/** A LocalDirectoryStore whose puts can be made to fail, to play an unreachable bucket. */
class FlakyStore extends LocalDirectoryStore {
  failPuts = false;
  puts: string[] = [];
  override async put(key: string, body: ObjectBody, contentType?: string): Promise<void> {
    if (this.failPuts) throw new Error(`simulated outage writing ${key}`);
    this.puts.push(key);
    return super.put(key, body, contentType);
  }
}

let dir: string;
let store: FlakyStore;
let localPath: string;
const open: TestingModule[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'baseline-int-'));
  store = new FlakyStore(path.join(dir, 'bucket'));
  localPath = path.join(dir, 'local', 'baseline.json');
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
});

afterEach(async () => {
  while (open.length) await open.pop()!.close();
  jest.restoreAllMocks();
  jest.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Boots BaselineModule the way the app does (config, schedule, a store), with lifecycle hooks.
 * Cumulative statistics (BASELINE_HALF_LIFE=0): counts then add up exactly, so a batch folded twice
 * or lost shows in them, whatever the order the folds came in.
 */
async function boot(env: Record<string, string> = {}): Promise<{ module: TestingModule; baseline: BaselineService }> {
  const config = AppConfig.forTest({ BASELINE_LOCAL_PATH: localPath, DATA_DIR: path.join(dir, 'bucket'), BASELINE_HALF_LIFE: '0', ...env });
  @Global()
  @Module({ providers: [{ provide: ObjectStore, useValue: store }], exports: [ObjectStore] })
  class TestStoreModule {}
  const module = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(config), ScheduleModule.forRoot(), TestStoreModule, BaselineModule],
  }).compile();
  await module.init();
  open.push(module);
  return { module, baseline: module.get(BaselineService) };
}

/** Drops a module without its shutdown hooks: what `kill -9` leaves behind. */
function kill(module: TestingModule): void {
  open.splice(open.indexOf(module), 1);
  // Stop its flush timer only, so it cannot act after "death"; no flush, no hooks.
  const registry = module.get(SchedulerRegistry);
  if (registry.doesExist('interval', BASELINE_FLUSH_INTERVAL_NAME)) registry.deleteInterval(BASELINE_FLUSH_INTERVAL_NAME);
}

function batches(n: number, seed = 1): BatchContribution[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => contributionOf(COLUMNS, gaussianRows(r, 100, MEANS, STDS)));
}

const source = (i: number) => ({ key: `raw/batch-${String(i).padStart(4, '0')}.csv`, etag: `etag-${i}` });

function sequential(contributions: BatchContribution[]): BaselineState {
  const state = BaselineState.empty({ minCount: 30, includeAnomalies: false });
  contributions.forEach((c, i) => state.absorb(source(i), c));
  return state;
}

async function storedState(): Promise<Record<string, any> | null> {
  const text = await store.getText(BASELINE_KEY);
  return text === null ? null : JSON.parse(text);
}

function counts(json: Record<string, any>): number[] {
  return COLUMNS.map((c) => json[c].count);
}

describe('BaselineService', () => {
  it('starts empty, writes the local copy before absorb resolves, flushes only when changed', async () => {
    const { baseline } = await boot();
    expect(baseline.status()).toMatchObject({ loadedFrom: 'empty', dirty: false, sequence: 0 });
    expect(await baseline.flush()).toBe(false);
    expect(await storedState()).toBeNull();

    const [c] = batches(1);
    const result = await baseline.absorb(source(0), c);
    expect(result.status).toBe('absorbed');
    const local = JSON.parse(readFileSync(localPath, 'utf8'));
    expect(local.temperature.count).toBe(100);
    expect(local._state.ledger.entries).toEqual([[source(0).key, source(0).etag]]);
    expect(baseline.status().dirty).toBe(true);

    expect(await baseline.flush()).toBe(true);
    expect((await storedState())!.temperature.count).toBe(100);
    expect(await baseline.flush()).toBe(false);
    expect(store.puts).toEqual([BASELINE_KEY]);

    expect((await baseline.absorb(source(0), c)).status).toBe('duplicate');
    expect(await baseline.flush()).toBe(false);
    expect(baseline.hasAbsorbed(source(0).key, source(0).etag)).toBe(true);
    expect(baseline.snapshot().lookup('temperature')!.count).toBe(100);
  });

  it('folds 200 batches with 8 in flight (and every one delivered twice) exactly like a sequential run', async () => {
    const { baseline } = await boot();
    const contributions = batches(200, 2);
    const r = rng(99);
    // Each job: a random async delay (as scoring and writing take), then the fold. Every batch is
    // queued twice, as an SNS redelivery would.
    const jobs = [...contributions.keys(), ...contributions.keys()].sort(() => r() - 0.5);
    const statuses: string[] = [];
    let next = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const i = jobs[next++];
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const snapshot = baseline.snapshot();
        const before = snapshot.lookup('temperature')?.count ?? 0;
        await new Promise((resolve) => setTimeout(resolve, Math.floor(r() * 3)));
        // The snapshot a batch is scored against stays as it was while other batches fold in.
        expect(snapshot.lookup('temperature')?.count ?? 0).toBe(before);
        statuses.push((await baseline.absorb(source(i), contributions[i])).status);
        inFlight--;
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(maxInFlight).toBe(8);
    expect(statuses.filter((s) => s === 'absorbed')).toHaveLength(200);
    expect(statuses.filter((s) => s === 'duplicate')).toHaveLength(200);

    const expected = sequential(contributions);
    const actual = baseline.toJSON() as Record<string, any>;
    const want = expected.toJSON() as Record<string, any>;
    expect(counts(actual)).toEqual([20000, 20000, 20000, 20000]);
    expect(counts(actual)).toEqual(counts(want));
    for (const c of COLUMNS) {
      // Same values, another fold order: equal up to floating-point rounding.
      expect(actual[c].mean).toBeCloseTo(want[c].mean, 9);
      expect(actual[c].M2 / want[c].M2).toBeCloseTo(1, 9);
    }
    expect(actual._state.sequence).toBe(200);
    expect(actual._state.ledger.entries).toHaveLength(200);
    // The local copy, written by group commits, ends with the final state.
    const local = JSON.parse(readFileSync(localPath, 'utf8'));
    expect(local._state.sequence).toBe(200);
    expect(counts(local)).toEqual(counts(want));
  });

  it('a failed flush logs, keeps the state and succeeds at the next tick', async () => {
    const { baseline } = await boot();
    await baseline.absorb(source(0), batches(1)[0]);
    store.failPuts = true;
    const errors = jest.spyOn(Logger.prototype, 'error');
    await expect(baseline.flush()).resolves.toBe(false);
    await expect(baseline.flush()).resolves.toBe(false);
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('simulated outage writing state/baseline.json'));
    expect(baseline.status()).toMatchObject({ dirty: true, consecutiveFlushFailures: 2, lastFlushError: expect.stringContaining('simulated outage') });
    expect(baseline.snapshot().lookup('temperature')!.count).toBe(100);
    expect(await storedState()).toBeNull();

    // Folding goes on during the outage.
    await baseline.absorb(source(1), batches(2)[1]);
    store.failPuts = false;
    await expect(baseline.flush()).resolves.toBe(true);
    expect(baseline.status()).toMatchObject({ dirty: false, consecutiveFlushFailures: 0 });
    expect(baseline.status().lastFlushError).toBeUndefined();
    expect(counts((await storedState())!)).toEqual([200, 200, 200, 200]);
  });

  it('flushes once more at shutdown', async () => {
    const { module, baseline } = await boot();
    await baseline.absorb(source(0), batches(1)[0]);
    expect(await storedState()).toBeNull();
    open.splice(open.indexOf(module), 1);
    await module.close();
    expect((await storedState())!._state.sequence).toBe(1);
  });

  it('registers the flush on the configured interval', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const { module, baseline } = await boot({ BASELINE_FLUSH_INTERVAL: '7' });
    const flush = jest.spyOn(baseline, 'flush');
    expect(module.get(SchedulerRegistry).getIntervals()).toContain(BASELINE_FLUSH_INTERVAL_NAME);
    jest.advanceTimersByTime(6999);
    expect(flush).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(flush).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(14000);
    expect(flush).toHaveBeenCalledTimes(3);
  });

  describe('start-up', () => {
    it('loads a reference-written state/baseline.json and keeps its shape when writing back', async () => {
      const ref = readFileSync(path.join(__dirname, 'fixtures', 'reference-baseline.json'), 'utf8');
      await store.put(BASELINE_KEY, ref);
      store.puts = [];
      const { baseline } = await boot();
      expect(baseline.status()).toMatchObject({ loadedFrom: 'store', dirty: false });
      expect(baseline.snapshot().lookup('pressure')).toMatchObject({ count: 300, mean: JSON.parse(ref).pressure.mean, skewness: 0 });
      await baseline.absorb(source(0), batches(1)[0]);
      await baseline.flush();
      const json = (await storedState())!;
      expect(Object.keys(json).slice(0, 5)).toEqual([...COLUMNS, 'last_updated']);
      expect(counts(json)).toEqual([400, 400, 400, 400]);
      expect(json.temperature).toEqual({ count: 400, mean: expect.any(Number), M2: expect.any(Number), std: expect.any(Number), M3: expect.any(Number), M4: expect.any(Number) });
    });

    it('refuses to start on a corrupt state/baseline.json without a local copy, and leaves it untouched', async () => {
      await store.put(BASELINE_KEY, '{"temperature": {"count": 12, "mean": 1, "M2": -4, "std": 0}');
      const before = await store.getText(BASELINE_KEY);
      await expect(boot()).rejects.toThrow(BaselineLoadError);
      await expect(boot()).rejects.toThrow(/Refusing to start: .*state\/baseline\.json is corrupt \(.*not valid JSON/);
      await store.put(BASELINE_KEY, '{"temperature": {"count": 12, "mean": 1, "M2": -4, "std": 0}}');
      await expect(boot()).rejects.toThrow(/"temperature"\.M2 must be a finite number >= 0, got -4/);
      expect(await store.getText(BASELINE_KEY)).not.toBe(before);
      expect(await store.getText(BASELINE_KEY)).toBe('{"temperature": {"count": 12, "mean": 1, "M2": -4, "std": 0}}');
      expect(store.puts).toEqual([BASELINE_KEY, BASELINE_KEY]); // only the test's own writes
    });

    it('falls back to a valid local copy on a corrupt store object, which is copied aside before being replaced', async () => {
      const first = await boot();
      await first.baseline.absorb(source(0), batches(1)[0]);
      kill(first.module);
      await store.put(BASELINE_KEY, 'garbage{');
      store.puts = [];
      const { baseline } = await boot();
      expect(baseline.status()).toMatchObject({ loadedFrom: 'local', dirty: true, sequence: 1 });
      expect(await store.getText(BASELINE_KEY)).toBe('garbage{');
      expect(await baseline.flush()).toBe(true);
      const aside = store.puts.find((k) => k.startsWith('state/baseline.corrupt-'));
      expect(aside).toBeDefined();
      expect(await store.getText(aside!)).toBe('garbage{');
      expect((await storedState())!._state.sequence).toBe(1);
    });

    it('keeps a local copy that learned something over a store emptied to {}, and flushes it back', async () => {
      const first = await boot();
      for (let i = 0; i < 2; i++) await first.baseline.absorb(source(i), batches(2)[i]);
      await first.baseline.flush();
      kill(first.module);
      await store.put(BASELINE_KEY, '{}');
      const { baseline } = await boot();
      expect(baseline.status()).toMatchObject({ loadedFrom: 'local', sequence: 2, dirty: true });
      expect(await baseline.flush()).toBe(true);
      expect((await storedState())!._state.sequence).toBe(2);
    });

    it('refuses to start when the store has no baseline and the local copy is corrupt', async () => {
      await fs.mkdir(path.dirname(localPath), { recursive: true });
      await fs.writeFile(localPath, '{"x": {"count": "many"}}');
      await expect(boot()).rejects.toThrow(/Refusing to start: there is no .* and the local copy .* is unreadable \(.*"x"\.count must be/);
      expect(readFileSync(localPath, 'utf8')).toBe('{"x": {"count": "many"}}');
    });

    it('refuses to start when the store cannot be read and there is no local copy', async () => {
      jest.spyOn(store, 'getText').mockRejectedValue(new Error('connect ECONNREFUSED'));
      await expect(boot()).rejects.toThrow(/Refusing to start: .* is unreadable \(connect ECONNREFUSED\)/);
    });

    it('ignores a local copy of another history, and an older local copy of the same one', async () => {
      const a = await boot();
      for (let i = 0; i < 3; i++) await a.baseline.absorb(source(i), batches(3)[i]);
      await a.baseline.flush();
      kill(a.module);
      // An older local copy of the same lineage (sequence 1 < 3).
      const older = JSON.parse(await store.getText(BASELINE_KEY) as string);
      older._state.sequence = 1;
      await fs.writeFile(localPath, JSON.stringify(older));
      const b = await boot();
      expect(b.baseline.status()).toMatchObject({ loadedFrom: 'store', sequence: 3, dirty: false });
      kill(b.module);
      // Another lineage, more folds: still not preferred over the store.
      older._state.lineage = 'someone-else';
      older._state.sequence = 99;
      await fs.writeFile(localPath, JSON.stringify(older));
      const c = await boot();
      expect(c.baseline.status()).toMatchObject({ loadedFrom: 'store', sequence: 3 });
    });
  });

  describe('kill before flush, restart, reprocess', () => {
    it.each([
      ['never flushed', -1],
      ['flushed after batch 20', 20],
    ])('%s: nothing counted twice, nothing lost', async (_name, flushAfter) => {
      const contributions = batches(60, 7);
      const a = await boot();
      for (let i = 0; i < 50; i++) {
        await a.baseline.absorb(source(i), contributions[i]);
        if (i === flushAfter) expect(await a.baseline.flush()).toBe(true);
      }
      kill(a.module); // batches 21..49 (or all) are only in the local copy

      const b = await boot();
      expect(b.baseline.status()).toMatchObject({ loadedFrom: 'local', sequence: 50, dirty: true });
      // The restart reprocesses everything it finds, plus 10 new batches.
      const statuses = [];
      for (let i = 0; i < 60; i++) statuses.push((await b.baseline.absorb(source(i), contributions[i])).status);
      expect(statuses.slice(0, 50).every((s) => s === 'duplicate')).toBe(true);
      expect(statuses.slice(50).every((s) => s === 'absorbed')).toBe(true);
      open.splice(open.indexOf(b.module), 1);
      await b.module.close();

      const want = sequential(contributions).toJSON() as Record<string, any>;
      const stored = (await storedState())!;
      expect(counts(stored)).toEqual([6000, 6000, 6000, 6000]);
      expect(counts(stored)).toEqual(counts(want));
      for (const c of COLUMNS) {
        expect(stored[c].mean).toBe(want[c].mean);
        expect(stored[c].M2).toBe(want[c].M2);
      }
      expect(stored._state.sequence).toBe(60);
    });

    // A double fault (killed before the flush AND the local disk lost): folds after the last flush
    // are gone unless their batches come again (the catch-up scan skips batches with a summary);
    // what does come again is folded once.
    it('after losing the local copy too, batches folded again against the older store copy count once', async () => {
      const contributions = batches(30, 8);
      const a = await boot();
      for (let i = 0; i < 30; i++) {
        await a.baseline.absorb(source(i), contributions[i]);
        if (i === 9) await a.baseline.flush();
      }
      kill(a.module);
      rmSync(localPath);
      const b = await boot();
      expect(b.baseline.status()).toMatchObject({ loadedFrom: 'store', sequence: 10 });
      for (let i = 0; i < 30; i++) await b.baseline.absorb(source(i), contributions[i]);
      expect(counts(b.baseline.toJSON() as Record<string, any>)).toEqual(counts(sequential(contributions).toJSON() as Record<string, any>));
    });
  });
});
