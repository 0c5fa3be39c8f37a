import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { ForestFitError, ForestFitter } from './forest-fitter';
import { fitForestModel, ForestModel, ForestModelCache, ForestModelData, fromModelData, modelKey, toModelData } from './forest-model';
import { ReferenceWindow } from './reference-window';
import { createRng, standardNormal } from './seeded-random';

const COLUMNS = ['temperature', 'humidity', 'pressure'];
const OPTIONS = { trees: 50, seed: 7, quantile: 0.99 };

/** 768 committed rows (two commits), a few missing values and outliers among them. */
function filledWindow(seed: number, rows = 768): ReferenceWindow {
  const rng = createRng(seed);
  const w = new ReferenceWindow(COLUMNS);
  for (let i = 0; i < rows; i++) {
    const values = COLUMNS.map(() => standardNormal(rng) * 3 + 20);
    if (i % 97 === 5) values[1] = NaN;
    if (i % 131 === 9) values[2] += 40;
    w.add(values);
  }
  return w;
}

function bytes(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function expectSameModel(actual: ForestModel | undefined, expected: ForestModel | undefined): void {
  expect(actual).toBeDefined();
  expect(expected).toBeDefined();
  const a = actual!.forest;
  const e = expected!.forest;
  expect([a.trees, a.depth, a.features, a.sampleSize]).toEqual([e.trees, e.depth, e.features, e.sampleSize]);
  for (const k of ['feature', 'split', 'leaf', 'impute'] as const) expect(bytes(a[k]).equals(bytes(e[k]))).toBe(true);
  expect(Object.is(actual!.threshold, expected!.threshold)).toBe(true);
  expect(Object.is(actual!.typical, expected!.typical)).toBe(true);
  expect(actual!.columns).toEqual(expected!.columns);
  expect(actual!.key).toBe(expected!.key);
}

describe('ForestFitter (worker thread)', () => {
  const fitter = new ForestFitter();
  afterAll(() => fitter.close());

  it('fits the same model, byte for byte, as fitting on this thread', async () => {
    const window = filledWindow(1);
    const data = await fitter.fit(window, OPTIONS);
    expect(data).not.toBeNull();
    const here = fitForestModel(window, OPTIONS);
    expectSameModel(fromModelData(data!, window.columns, modelKey(window, OPTIONS)), here);
    // ...and it scores rows the same.
    const other = fitForestModel(filledWindow(2), OPTIONS)!;
    const remote = fromModelData(data!, window.columns, '');
    for (let i = 0; i < 50; i++) {
      const row = other.forest.impute.map((m, c) => m + (i - 25) * (c + 1));
      expect(remote.forest.score(row)).toBe(here!.forest.score(row));
    }
  });

  it('answers concurrent fits of different windows each with its own model, on one worker', async () => {
    const windows = [filledWindow(3), filledWindow(4, 300), filledWindow(5)];
    const started = fitter.started;
    const results = await Promise.all(windows.map((w) => fitter.fit(w, OPTIONS)));
    windows.forEach((w, i) => expectSameModel(fromModelData(results[i]!, w.columns, modelKey(w, OPTIONS)), fitForestModel(w, OPTIONS)));
    expect(fitter.started - started).toBeLessThanOrEqual(1);
  });

  it('resolves null for a window too small for a model', async () => {
    const small = new ReferenceWindow(COLUMNS, { minInitial: 10 });
    for (let i = 0; i < 10; i++) small.add([i, i, i]);
    expect(small.size).toBe(10);
    expect(await fitter.fit(small, OPTIONS)).toBeNull();
  });

  it('reports a fit that throws in the worker as a ForestFitError', async () => {
    await expect(fitter.fit(filledWindow(1), { ...OPTIONS, trees: 0 })).rejects.toThrow(/trees must be a positive integer/);
    await expect(fitter.fit(filledWindow(1), { ...OPTIONS, trees: 0 })).rejects.toBeInstanceOf(ForestFitError);
    // The worker survives it.
    expect(await fitter.fit(filledWindow(1), OPTIONS)).not.toBeNull();
  });

  it('starts a new worker after close()', async () => {
    const own = new ForestFitter();
    try {
      await own.fit(filledWindow(1), OPTIONS);
      await own.close();
      expect(await own.fit(filledWindow(1), OPTIONS)).not.toBeNull();
      expect(own.started).toBe(2);
    } finally {
      await own.close();
    }
  });

  it('close() lets the fits under way finish', async () => {
    const own = new ForestFitter();
    const fit = own.fit(filledWindow(1), OPTIONS);
    await own.close();
    await expect(fit).resolves.not.toBeNull();
  });

  it('rejects when the worker cannot run, and stops restarting it after three failures', async () => {
    const broken = new ForestFitter({ workerModule: 'no-such.worker' });
    try {
      for (let i = 0; i < 3; i++) await expect(broken.fit(filledWindow(1), OPTIONS)).rejects.toBeInstanceOf(ForestFitError);
      await expect(broken.fit(filledWindow(1), OPTIONS)).rejects.toThrow(/not restarted/);
      expect(broken.started).toBe(3);
    } finally {
      await broken.close();
    }
  });

  it('does not keep a process alive once its fits are answered', async () => {
    // A script that only awaits a fit must neither exit before the answer nor hang after it.
    const script = `
      const { ForestFitter } = require('./forest-fitter');
      const { ReferenceWindow } = require('./reference-window');
      const w = new ReferenceWindow(['a', 'b']);
      for (let i = 0; i < 256; i++) w.add([i % 17, (i * 7) % 23]);
      new ForestFitter().fit(w, { trees: 10, seed: 1 }).then((m) => console.log('fitted', m.trees));
    `;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--require', 'ts-node/register/transpile-only', '-e', script],
        { cwd: __dirname, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true', TS_NODE_PROJECT: path.join(__dirname, '../../tsconfig.json') } },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
      ),
    );
    expect(out.trim()).toBe('fitted 10');
  }, 20_000);
});

describe('ForestModelCache.prepare', () => {
  /** Model data that no real fit gives (threshold 123): shows where a detector's model came from. */
  function marked(window: ReferenceWindow): ForestModelData {
    return { ...toModelData(fitForestModel(window, OPTIONS)!), threshold: 123 };
  }

  it('fits once for concurrent callers, and get() then finds the model without fitting', async () => {
    const window = filledWindow(1);
    const fit = jest.fn(async (w: ReferenceWindow) => marked(w));
    const cache = new ForestModelCache(4, { fit: (w) => fit(w as ReferenceWindow) });
    await Promise.all([cache.prepare(window, OPTIONS), cache.prepare(window.clone(), OPTIONS), cache.prepare(window, OPTIONS)]);
    expect(fit).toHaveBeenCalledTimes(1);
    expect(cache.has(window, OPTIONS)).toBe(true);
    expect(cache.get(window, OPTIONS)!.threshold).toBe(123);
    expect(cache.get(window, OPTIONS)!.key).toBe(modelKey(window, OPTIONS));
    await cache.prepare(window, OPTIONS);
    expect(fit).toHaveBeenCalledTimes(1);
  });

  it('fits again for a new window generation', async () => {
    const fit = jest.fn(async (w: ReferenceWindow) => marked(w));
    const cache = new ForestModelCache(4, { fit: (w) => fit(w as ReferenceWindow) });
    const window = filledWindow(1);
    await cache.prepare(window, OPTIONS);
    for (let i = 0; i < 512; i++) window.add([20, 20, 20]);
    await cache.prepare(window, OPTIONS);
    expect(fit).toHaveBeenCalledTimes(2);
  });

  it('does not go to the worker for a window that gives no model', async () => {
    const fit = jest.fn(async () => null);
    const cache = new ForestModelCache(4, { fit });
    const empty = new ReferenceWindow(COLUMNS);
    await cache.prepare(empty, OPTIONS);
    expect(fit).not.toHaveBeenCalled();
    expect(cache.has(empty, OPTIONS)).toBe(true);
    expect(cache.get(empty, OPTIONS)).toBeUndefined();
  });

  it('falls back to fitting on this thread when the worker fails, and says so', async () => {
    const window = filledWindow(1);
    const onFallback = jest.fn();
    const cache = new ForestModelCache(4, { fit: async () => Promise.reject(new ForestFitError('fitting worker crashed')), onFallback });
    await cache.prepare(window, OPTIONS);
    expect(onFallback).toHaveBeenCalledWith(expect.any(ForestFitError));
    expectSameModel(cache.get(window, OPTIONS), fitForestModel(window, OPTIONS));
  });

  it('with the real worker gives the in-thread model', async () => {
    const fitter = new ForestFitter();
    try {
      const window = filledWindow(8);
      const cache = new ForestModelCache(4, { fit: (w, o) => fitter.fit(w, o) });
      await cache.prepare(window, OPTIONS);
      expectSameModel(cache.get(window, OPTIONS), fitForestModel(window, OPTIONS));
    } finally {
      await fitter.close();
    }
  });

  it('without an off-thread fit, fits on this thread', async () => {
    const window = filledWindow(1);
    const cache = new ForestModelCache();
    await cache.prepare(window, OPTIONS);
    expect(cache.has(window, OPTIONS)).toBe(true);
    expectSameModel(cache.get(window, OPTIONS), fitForestModel(window, OPTIONS));
  });
});
