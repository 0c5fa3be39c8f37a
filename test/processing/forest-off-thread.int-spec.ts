import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BaselineState } from '../../src/baseline/baseline-state';
import { sharedForestFitter } from '../../src/detection/forest-fitter';
import { forestOptions, sharedForestCache } from '../../src/detection/forest-model';
import { createRng } from '../../src/detection/seeded-random';
import { batchKeys } from '../../src/processing/batch-keys';
import { PipelineSettings, processBatch } from '../../src/processing/batch-pipeline';
import { generateBatch } from '../../src/producer/batch-generator';
import { LocalDirectoryStore } from '../../src/storage/local-directory.store';
import { AppConfig } from '../../src/config/app-config';
import { pipelineSettings } from '../../src/processing/pipeline-settings';

/** The service's defaults. */
const settings: PipelineSettings = pipelineSettings(AppConfig.forTest({}));

let dir: string;
let store: LocalDirectoryStore;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'forest-off-thread-'));
  store = new LocalDirectoryStore(dir);
  sharedForestCache.clear();
});
afterEach(() => {
  jest.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});
afterAll(() => sharedForestFitter.close());

/** A baseline with a committed reference window (3 x 300 rows scored through the pipeline). */
async function learnedBaseline(): Promise<BaselineState> {
  const rng = createRng(5);
  const state = BaselineState.empty({ minCount: 30, includeAnomalies: false });
  for (let i = 0; i < 3; i++) {
    const key = `raw/learn_${i}.csv`;
    await store.put(key, generateBatch({ rows: 300, start: new Date(Date.UTC(2026, 1, 1) + i * 3.6e6), rng, batchIndex: i }).csv);
    const r = await processBatch(store, { keys: batchKeys(key) }, state.snapshot(), settings);
    state.absorb({ key, etag: `e${i}` }, r.contribution);
  }
  return state;
}

async function scoredCopy(key: string): Promise<string> {
  const r = await store.getStream(`processed/${key}.csv`);
  const chunks: Buffer[] = [];
  for await (const c of r!) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('the isolation forest is fitted on the fitting worker', () => {
  it('once for batches that score against the same window at once; the output is the in-thread fit\'s', async () => {
    const state = await learnedBaseline();
    const snapshot = state.snapshot();
    expect(snapshot.window.size).toBeGreaterThanOrEqual(256);
    const batch = generateBatch({ rows: 100, start: new Date(Date.UTC(2026, 2, 1)), rng: createRng(6), batchIndex: 9 }).csv;
    for (const name of ['a', 'b', 'c', 'd']) await store.put(`raw/${name}.csv`, batch);

    sharedForestCache.clear();
    const fit = jest.spyOn(sharedForestFitter, 'fit');
    await Promise.all(['a', 'b', 'c'].map((name) => processBatch(store, { keys: batchKeys(`raw/${name}.csv`) }, snapshot, settings)));
    expect(fit).toHaveBeenCalledTimes(1);
    expect(sharedForestCache.has(snapshot.window, forestOptions(settings.detection))).toBe(true);
    const viaWorker = await scoredCopy('a');
    expect(await scoredCopy('b')).toBe(viaWorker);
    // The forest took part: if_score cells are filled.
    expect(viaWorker.split('\n')[1].split(',')[14]).toMatch(/^-?\d/);

    // The same batch with the worker failing: fitted on this thread with a warning, same bytes.
    sharedForestCache.clear();
    fit.mockRejectedValue(new Error('worker gone'));
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    await processBatch(store, { keys: batchKeys('raw/d.csv') }, snapshot, settings);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/fitted on the main thread.*worker gone/), 'ForestFitWarning');
    expect(await scoredCopy('d')).toBe(viaWorker);
  });
});
