/**
 * The isolation model of a reference window: the forest plus its calibrated threshold, cached by the
 * window's content so a batch does not refit when the window did not change.
 */
import { ReferenceWindowView } from './detection.types';
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

/**
 * What identifies a fitted model: the window's generation (changes on every commit) plus a cheap
 * content fingerprint (size, columns, a few rows), so two different windows that happen to share a
 * generation (a reloaded or replaced baseline) never share a model; and the fit options.
 */
export function modelKey(window: ReferenceWindowView, options: ForestModelOptions): string {
  let h = 2166136261;
  const mix = (x: number) => {
    const bits = new Float64Array([x]);
    const words = new Uint32Array(bits.buffer);
    h = Math.imul(h ^ words[0], 16777619) >>> 0;
    h = Math.imul(h ^ words[1], 16777619) >>> 0;
  };
  const n = window.size;
  for (const i of n > 0 ? [0, n >> 1, n - 1] : []) {
    const r = window.row(i).values;
    for (let c = 0; c < r.length; c++) mix(r[c]);
  }
  return [window.generation, n, h.toString(36), window.columns.join('\u0001'), options.trees, options.seed, options.quantile ?? DEFAULT_ISOLATION_QUANTILE].join('|');
}

/** A small cache of fitted models (most recent first); fitting costs tens of ms, scoring a batch far less. */
export class ForestModelCache {
  private entries: { key: string; model: ForestModel | undefined }[] = [];

  constructor(private readonly capacity = 4) {}

  get(window: ReferenceWindowView, options: ForestModelOptions): ForestModel | undefined {
    const key = modelKey(window, options);
    const at = this.entries.findIndex((e) => e.key === key);
    if (at >= 0) {
      const [hit] = this.entries.splice(at, 1);
      this.entries.unshift(hit);
      return hit.model;
    }
    const model = fitForestModel(window, options);
    this.entries.unshift({ key, model });
    if (this.entries.length > this.capacity) this.entries.length = this.capacity;
    return model;
  }

  get size(): number {
    return this.entries.length;
  }

  clear(): void {
    this.entries = [];
  }
}

/** The process-wide cache `createDetector` uses unless given its own. */
export const sharedForestCache = new ForestModelCache();
