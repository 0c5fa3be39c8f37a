/**
 * Detection micro benchmark (`npm run bench -- detection`):
 * - a 100-row batch, 4 channels: median time of createDetector + scoring, with the forest cached
 *   (the usual case: the window commits only every ~5 batches) and including a refit;
 * - rows/s of scoring alone for 1,000,000 rows x 4 channels: the compiled forest on its own, and the
 *   whole detector (`scoreBatch`: z, row rule, forest, reasons) on one thread.
 */
import { BaselineSnapshot, DetectionSettings } from '../src/detection/detection.types';
import { createDetector } from '../src/detection/detector';
import { ForestModelCache } from '../src/detection/forest-model';
import { ReferenceWindow } from '../src/detection/reference-window';
import { createRng, standardNormal } from '../src/detection/seeded-random';

const CH = ['temperature', 'humidity', 'pressure', 'wind_speed'];
const SETTINGS: DetectionSettings = { zThreshold: 3, minCount: 30, trees: 100, seed: 42 };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function window(seed: number): ReferenceWindow {
  const rng = createRng(seed);
  const w = new ReferenceWindow(CH);
  for (let i = 0; i < 2048; i++) w.add(CH.map(() => standardNormal(rng)));
  return w;
}

function snapshot(w: ReferenceWindow): BaselineSnapshot {
  return { lookup: () => ({ count: 10_000, mean: 0, std: 1, skewness: 0, kurtosis: 0 }), window: w };
}

function gaussian(rows: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const v = new Float64Array(rows * CH.length);
  for (let i = 0; i < v.length; i++) v[i] = standardNormal(rng);
  return v;
}

export async function run(): Promise<object> {
  const batch = gaussian(100, 1);
  const sample = Array.from({ length: 100 }, (_, r) => ({ values: batch.subarray(r * 4, r * 4 + 4) }));
  let sink = 0;
  const scoreBatch = (snap: BaselineSnapshot, cache: ForestModelCache) => {
    const det = createDetector(snap, CH, SETTINGS, { cache, coldStartSample: sample });
    det.scoreBatch(batch, 100, undefined, (_, s) => (sink += s.anomalyScore));
  };

  const cache = new ForestModelCache();
  const snap = snapshot(window(2));
  scoreBatch(snap, cache); // fit once
  const cached: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t = performance.now();
    scoreBatch(snap, cache);
    cached.push(performance.now() - t);
  }
  const refit: number[] = [];
  for (let i = 0; i < 15; i++) {
    const fresh = snapshot(window(100 + i));
    const t = performance.now();
    scoreBatch(fresh, new ForestModelCache());
    refit.push(performance.now() - t);
  }

  const N = 1_000_000;
  const big = gaussian(N, 3);
  const det = createDetector(snap, CH, SETTINGS, { cache });
  const forest = det.model!.forest;
  const out = new Float64Array(N);
  const scratch = forest.newScratch();
  const forestRates: number[] = [];
  const detectorRates: number[] = [];
  for (let i = 0; i < 3; i++) {
    let t = performance.now();
    forest.scoreRows(big, N, out, scratch);
    forestRates.push(N / ((performance.now() - t) / 1000));
    t = performance.now();
    det.scoreBatch(big, N, undefined, (_, s) => (sink += s.anomaly ? 1 : 0));
    detectorRates.push(N / ((performance.now() - t) / 1000));
  }
  if (Number.isNaN(sink)) throw new Error('unreachable');

  return {
    batch100: {
      medianMsCachedModel: +median(cached).toFixed(3),
      medianMsIncludingRefit: +median(refit).toFixed(1),
      note: 'createDetector + scoreBatch of 100 rows x 4 channels, 100 trees, window 2048 rows',
    },
    rows1M: {
      forestOnlyRowsPerSec: Math.round(Math.max(...forestRates)),
      detectorRowsPerSec: Math.round(Math.max(...detectorRates)),
      note: 'best of 3, one thread, 4 channels, 100 trees',
    },
    loadAverage: require('node:os').loadavg()[0],
  };
}
