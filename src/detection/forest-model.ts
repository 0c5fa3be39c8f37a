/**
 * The isolation model of a reference window: the forest plus its calibrated threshold, cached by the
 * window's content so a batch does not refit when the window did not change.
 */
import { ReferenceWindowView } from './detection.types';
import { sharedForestFitter } from './forest-fitter';
import { CompiledForest, fitIsolationForest } from './isolation-forest';

/** Fewer committed rows than this: no forest (the window's first commit is 256 rows). */
export const MIN_WINDOW_ROWS = 64;
/** Default quantile of the window's out-of-bag scores used as the isolation threshold. */
export const DEFAULT_ISOLATION_QUANTILE = 0.999;

export interface ForestModel {
  forest: CompiledForest;
  /** Rows with s above this are isolation-flagged (`if_score = threshold - s < 0`). */
  threshold: number;
  /** Median out-of-bag s of the window: what an ordinary row scores. */
  typical: number;
  columns: readonly string[];
  key: string;
}

export interface ForestModelOptions {
  trees: number;
  seed: number;
  quantile?: number;
}

/**
 * Fits the forest on the window's rows and sets the threshold at the `quantile` of their out-of-bag
 * scores (each row scored only by trees that did not see it: what a new normal row would score).
 */
export function fitForestModel(window: ReferenceWindowView, options: ForestModelOptions): ForestModel | undefined {
  if (window.size < MIN_WINDOW_ROWS || window.columns.length === 0) return undefined;
  const rows: ArrayLike<number>[] = new Array(window.size);
  for (let i = 0; i < window.size; i++) rows[i] = window.row(i).values;
  const { forest, oobScores } = fitIsolationForest(rows, window.columns.length, {
    trees: options.trees,
    seed: options.seed,
  });
  const finite = Array.from(oobScores).filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return undefined;
  return {
    forest,
    threshold: quantileSorted(finite, options.quantile ?? DEFAULT_ISOLATION_QUANTILE),
    typical: quantileSorted(finite, 0.5),
    columns: window.columns,
    key: modelKey(window, options),
  };
}

/** Linear interpolation between order statistics (numpy's default). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const i = Math.floor(pos);
  const frac = pos - i;
  return i + 1 < sorted.length ? sorted[i] + frac * (sorted[i + 1] - sorted[i]) : sorted[i];
}

/** Scratch space to read a double's bits without allocating (modelKey runs for every batch). */
const KEY_BITS = new Float64Array(1);
const KEY_WORDS = new Uint32Array(KEY_BITS.buffer);

/**
 * What identifies a fitted model: the window's generation (changes on every commit) plus a cheap
 * content fingerprint (size, columns, a few rows), so two different windows that happen to share a
 * generation (a reloaded or replaced baseline) never share a model; and the fit options.
 */
export function modelKey(window: ReferenceWindowView, options: ForestModelOptions): string {
  return [windowKey(window), options.trees, options.seed, options.quantile ?? DEFAULT_ISOLATION_QUANTILE].join('|');
}

/** The window part of `modelKey`: generation, size, fingerprint and columns. */
export function windowKey(window: ReferenceWindowView): string {
  let h = 2166136261;
  const mix = (x: number) => {
    KEY_BITS[0] = x;
    h = Math.imul(h ^ KEY_WORDS[0], 16777619) >>> 0;
    h = Math.imul(h ^ KEY_WORDS[1], 16777619) >>> 0;
  };
  const n = window.size;
  for (const i of n > 0 ? [0, n >> 1, n - 1] : []) {
    const r = window.row(i).values;
    for (let c = 0; c < r.length; c++) mix(r[c]);
  }
  return [window.generation, n, h.toString(36), window.columns.join('\u0001')].join('|');
}

/**
 * A fitted model as plain data, as it crosses between threads: the compiled forest's typed arrays
 * (transferable) and the calibration. `columns` and `key` stay with the caller.
 */
export interface ForestModelData {
  trees: number;
  depth: number;
  features: number;
  sampleSize: number;
  feature: Int16Array;
  split: Float64Array;
  leaf: Float64Array;
  impute: Float64Array;
  threshold: number;
  typical: number;
}

export function toModelData(model: ForestModel): ForestModelData {
  const { trees, depth, features, sampleSize, feature, split, leaf, impute } = model.forest;
  return { trees, depth, features, sampleSize, feature, split, leaf, impute, threshold: model.threshold, typical: model.typical };
}

export function fromModelData(data: ForestModelData, columns: readonly string[], key: string): ForestModel {
  const forest = new CompiledForest(data.trees, data.depth, data.features, data.sampleSize, data.feature, data.split, data.leaf, data.impute);
  return { forest, threshold: data.threshold, typical: data.typical, columns, key };
}

/** The forest options a detector with these settings uses (the cache key depends on them). */
export function forestOptions(settings: { trees: number; seed: number; isolationQuantile?: number }): ForestModelOptions {
  return { trees: settings.trees, seed: settings.seed, quantile: settings.isolationQuantile ?? DEFAULT_ISOLATION_QUANTILE };
}

/** Fits a model somewhere else (a worker thread); resolves null when the window gives no model. */
export type OffThreadFit = (window: ReferenceWindowView, options: ForestModelOptions) => Promise<ForestModelData | null>;

export interface ForestModelCacheOptions {
  /** Where `prepare` fits; without it `prepare` fits on the calling thread. */
  fit?: OffThreadFit;
  /** Told when `fit` failed and the model was fitted on the calling thread instead. */
  onFallback?: (err: unknown) => void;
}

/**
 * A small cache of fitted models (most recent first); fitting costs tens of ms, scoring a batch far
 * less. `prepare` fits a missing model asynchronously (off the calling thread when the cache was
 * given a `fit`), so that the synchronous `get` a detector makes then finds it; `get` on a miss fits
 * in-thread, which is always correct, only slower to the event loop.
 */
export class ForestModelCache {
  private entries: { key: string; model: ForestModel | undefined }[] = [];
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly capacity = 4,
    private readonly options: ForestModelCacheOptions = {},
  ) {}

  get(window: ReferenceWindowView, options: ForestModelOptions): ForestModel | undefined {
    const key = modelKey(window, options);
    const hit = this.lookup(key);
    if (hit) return hit.model;
    const model = fitForestModel(window, options);
    this.store(key, model);
    return model;
  }

  /**
   * Makes sure the model of this window is cached, fitting it if needed. Concurrent calls for the same
   * window share one fit. If the off-thread fit fails, the model is fitted here (reported through
   * `onFallback`): a batch is never lost to a broken worker. Rejects only if fitting itself throws.
   */
  prepare(window: ReferenceWindowView, options: ForestModelOptions): Promise<void> {
    const key = modelKey(window, options);
    if (this.lookup(key)) return Promise.resolve();
    const running = this.inFlight.get(key);
    if (running) return running;
    const fit = this.options.fit;
    if (!fit || window.size < MIN_WINDOW_ROWS || window.columns.length === 0) {
      // Nothing to gain from a round trip: no worker, or the window gives no model without fitting.
      try {
        this.store(key, fitForestModel(window, options));
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const columns = [...window.columns];
    const done = fit(window, options)
      .then(
        (data) => (data === null ? undefined : fromModelData(data, columns, key)),
        (err: unknown) => {
          this.options.onFallback?.(err);
          // Snapshot windows do not change; the check keeps a model from ever being filed under another window's key.
          return modelKey(window, options) === key ? fitForestModel(window, options) : null;
        },
      )
      .then((model) => {
        if (model !== null) this.store(key, model);
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, done);
    return done;
  }

  /** Files a model fitted elsewhere (another thread's cache) under its key; undefined: the window has none. */
  insert(key: string, model: ForestModel | undefined): void {
    this.store(key, model);
  }

  /** Whether the model of this window (or the fact that it has none) is cached. */
  has(window: ReferenceWindowView, options: ForestModelOptions): boolean {
    const key = modelKey(window, options);
    return this.entries.some((e) => e.key === key);
  }

  get size(): number {
    return this.entries.length;
  }

  clear(): void {
    this.entries = [];
  }

  private lookup(key: string): { key: string; model: ForestModel | undefined } | undefined {
    const at = this.entries.findIndex((e) => e.key === key);
    if (at < 0) return undefined;
    const [hit] = this.entries.splice(at, 1);
    this.entries.unshift(hit);
    return hit;
  }

  private store(key: string, model: ForestModel | undefined): void {
    this.entries = this.entries.filter((e) => e.key !== key);
    this.entries.unshift({ key, model });
    if (this.entries.length > this.capacity) this.entries.length = this.capacity;
  }
}

/**
 * The process-wide cache `createDetector` uses unless given its own; `prepare` fits on the shared
 * worker thread.
 */
export const sharedForestCache = new ForestModelCache(4, {
  fit: (window, options) => sharedForestFitter.fit(window, options),
  onFallback: (err) =>
    process.emitWarning(`isolation forest fitted on the main thread: the fitting worker failed (${err instanceof Error ? err.message : String(err)})`, 'ForestFitWarning'),
});
