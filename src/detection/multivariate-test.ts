/**
 * The joint test: is a channel far from what the *other* channels of its row predict? Fitted on the
 * reference window (recent rows scored normal), so it is a pure function of persisted state, and
 * cached by the window's generation like the forest. Design and measurements: ./README.md.
 *
 * - Columns whose window std is at the std floor (constant) are left out: nothing can be said about
 *   how they relate to the others, and they would make the covariance singular.
 * - The correlation matrix R of the other columns is shrunk towards the identity,
 *   R_s = (1 - JOINT_SHRINKAGE) R + JOINT_SHRINKAGE I, so it is always invertible (two identical
 *   channels, or one a linear function of others, give a finite, bounded residual scale).
 * - With P = R_s^-1, the standardised residual of channel c given all the others is
 *   e_c = (P x~)_c / sqrt(P_cc) (x~ the row standardised by the window's mean and std): N(0, 1) for
 *   Gaussian rows, and the regression of c on the others is explained share R2_c = 1 - 1 / P_cc.
 * - Only channels with R2_c >= JOINT_MIN_R2 are tested. Elsewhere the residual is about the marginal
 *   deviation again, which the per-channel row rule already tests with its own budget: an independent
 *   channel would only spend false alarms twice (heavy tails, trends) for nothing new.
 * - Threshold, per tested channel and side, from quantiles only (see calibrate): the larger of the
 *   Bonferroni level over the m tested channels, T_m = max(zThreshold, Phi^-1(1 - alpha / 2m)), at the
 *   residual's robust scale, and the exponential extrapolation of the residuals' own tail to
 *   alpha / 2m. About alpha of normal rows for near-Gaussian residuals; more (measured 0.2-0.8 %) for
 *   strongly heavy-tailed correlated channels.
 * - No test before MIN_JOINT_ROWS complete window rows.
 */
import { ReferenceWindowView } from './detection.types';
import { modelKey } from './forest-model';
import { stdFloor } from './std-floor';
import { familyThreshold } from './tail-thresholds';

/** Fewest complete window rows for a joint model (tail quantiles at 5 % need enough rows beyond them). */
export const MIN_JOINT_ROWS = 1000;
/**
 * Widest rows the joint test takes: its fit runs in the detector (on the scoring thread) once per
 * window generation and grows with the cube of the channel count (~5 ms for 4 channels, ~140 ms for
 * 100); wider files are judged per channel and by the forest only.
 */
export const MAX_JOINT_COLUMNS = 32;
/** A channel is tested only when the others explain at least this share of its variance. */
export const JOINT_MIN_R2 = 0.5;
/** Shrinkage of the window's correlation matrix towards the identity (keeps it invertible). */
export const JOINT_SHRINKAGE = 0.01;

export interface JointModel {
  /** Window columns the model reads, in the window's order; `used` indexes them. */
  readonly columns: readonly string[];
  /** Window column indices read (the non-constant ones); a row with any of them missing is not tested. */
  readonly used: Int32Array;
  /** Window column index of each tested channel. */
  readonly tested: Int32Array;
  /** tested x used: e_t = sum_j weights[t * used + j] * x[used[j]] - offset[t]. */
  readonly weights: Float64Array;
  readonly offset: Float64Array;
  /** Per tested channel: flag when e > upper or e < lower. */
  readonly upper: Float64Array;
  readonly lower: Float64Array;
  /** Per tested channel: share of its window variance the other channels explain. */
  readonly r2: Float64Array;
  /** Complete window rows it was fitted on. */
  readonly rows: number;
  readonly key: string;
}

export interface JointModelOptions {
  alpha: number;
  zThreshold: number;
  /** Complete window rows before there is a model (default MIN_JOINT_ROWS). */
  minRows?: number;
}

/** Rounds of refitting on the rows the previous fit does not find unusual (see fitJointModel). */
export const JOINT_REFITS = 4;

/**
 * The joint model of a window, or undefined when there is nothing to test (too few rows, < 2 usable
 * columns, no channel the others explain).
 *
 * Robust to anomalies already in the window: rows the test did not flag do enter the window, and
 * before the model exists (or while it is too lenient) correlation breaks get in (~2 % of the rows
 * on the `correlated` stream). They inflate the covariance and the residuals' tail, which would widen
 * the threshold enough to let the next breaks in too (measured: 0 of 403 found with moment-based
 * thresholds). So thresholds come from quantiles only, and the fit is repeated up to JOINT_REFITS
 * times on the window rows within the current thresholds, recalibrating on the rows kept.
 */
export function fitJointModel(window: ReferenceWindowView, options: JointModelOptions): JointModel | undefined {
  const k = window.columns.length;
  const minRows = options.minRows ?? MIN_JOINT_ROWS;
  if (k < 2 || k > MAX_JOINT_COLUMNS || window.size < minRows) return undefined;
  const complete: ArrayLike<number>[] = [];
  for (let i = 0; i < window.size; i++) {
    const v = window.row(i).values;
    let ok = true;
    for (let c = 0; c < k; c++) if (!Number.isFinite(v[c])) ok = false;
    if (ok) complete.push(v);
  }
  if (complete.length < minRows) return undefined;

  let rows = complete;
  let fit = fitLinear(rows, k);
  if (!fit) return undefined;
  let bounds = calibrate(fit, rows, options);
  for (let round = 0; round < JOINT_REFITS; round++) {
    const e = fit.tested.map((_, t) => residualsOf(fit!, t, complete));
    const kept = complete.filter((_, r) => e.every((x, t) => x[r] <= bounds.upper[t] && x[r] >= bounds.lower[t]));
    if (kept.length < minRows || kept.length === rows.length) break;
    const next = fitLinear(kept, k);
    if (!next) break;
    rows = kept;
    fit = next;
    bounds = calibrate(fit, rows, options);
  }
  const { upper, lower } = bounds;
  const n = rows.length;

  return {
    columns: window.columns,
    used: fit.used,
    tested: Int32Array.from(fit.tested, (j) => fit!.used[j]),
    weights: fit.weights,
    offset: fit.offset,
    upper,
    lower,
    r2: fit.r2,
    rows: n,
    key: jointModelKey(window, options),
  };
}

/**
 * Per tested channel and side, where its residual stops being ordinary: the larger of the Gaussian
 * family threshold at the residual's robust scale (median +- T_m * 1.4826 MAD, the MAD never below
 * the model's unit scale) and the exponential extrapolation of the residuals' own tail. Only quantiles:
 * a few anomalies among `rows` cannot move it much, unlike moments (one 10-sd residual in a thousand
 * adds ~10 to the kurtosis).
 */
function calibrate(fit: LinearFit, rows: readonly ArrayLike<number>[], options: JointModelOptions): { upper: Float64Array; lower: Float64Array } {
  const m = fit.tested.length;
  const family = familyThreshold(m, options.alpha, options.zThreshold);
  const upper = new Float64Array(m);
  const lower = new Float64Array(m);
  for (let t = 0; t < m; t++) {
    const e = residualsOf(fit, t, rows);
    const center = median(e);
    const scale = Math.max(1, 1.4826 * median(e.map((v) => Math.abs(v - center))));
    const tail = exponentialTails(e, options.alpha / (2 * m));
    upper[t] = Math.max(center + family * scale, tail.upper);
    lower[t] = Math.min(center - family * scale, tail.lower);
  }
  return { upper, lower };
}

interface LinearFit {
  used: Int32Array;
  /** Positions in `used` of the tested channels. */
  tested: number[];
  weights: Float64Array;
  offset: Float64Array;
  r2: Float64Array;
}

/** Means, stds, shrunk correlation, its inverse and the residual weights of the tested channels, from `rows`. */
function fitLinear(rows: readonly ArrayLike<number>[], k: number): LinearFit | undefined {
  const n = rows.length;
  const mean = new Float64Array(k);
  const std = new Float64Array(k);
  for (const v of rows) for (let c = 0; c < k; c++) mean[c] += v[c];
  for (let c = 0; c < k; c++) mean[c] /= n;
  for (const v of rows) for (let c = 0; c < k; c++) std[c] += (v[c] - mean[c]) ** 2;
  const usedList: number[] = [];
  for (let c = 0; c < k; c++) {
    std[c] = Math.sqrt(std[c] / (n - 1));
    const floor = stdFloor(mean[c]);
    if (Number.isFinite(std[c]) && std[c] > floor) usedList.push(c);
  }
  const u = usedList.length;
  if (u < 2) return undefined;
  const used = Int32Array.from(usedList);

  const R = new Float64Array(u * u);
  const x = new Float64Array(u);
  for (const v of rows) {
    for (let j = 0; j < u; j++) x[j] = (v[used[j]] - mean[used[j]]) / std[used[j]];
    for (let a = 0; a < u; a++) for (let b = 0; b <= a; b++) R[a * u + b] += x[a] * x[b];
  }
  for (let a = 0; a < u; a++) {
    for (let b = 0; b <= a; b++) {
      const r = a === b ? 1 : (1 - JOINT_SHRINKAGE) * (R[a * u + b] / (n - 1));
      R[a * u + b] = r;
      R[b * u + a] = r;
    }
  }
  const P = invertSpd(R, u);
  if (!P) return undefined;

  const tested: number[] = [];
  for (let j = 0; j < u; j++) if (1 - 1 / P[j * u + j] >= JOINT_MIN_R2) tested.push(j);
  const m = tested.length;
  if (m === 0) return undefined;
  const weights = new Float64Array(m * u);
  const offset = new Float64Array(m);
  const r2 = new Float64Array(m);
  for (let t = 0; t < m; t++) {
    const j = tested[t];
    const d = Math.sqrt(P[j * u + j]);
    r2[t] = 1 - 1 / P[j * u + j];
    for (let i = 0; i < u; i++) {
      const w = P[j * u + i] / d / std[used[i]];
      weights[t * u + i] = w;
      offset[t] += w * mean[used[i]];
    }
  }
  return { used, tested, weights, offset, r2 };
}

function residualsOf(fit: LinearFit, t: number, rows: readonly ArrayLike<number>[]): Float64Array {
  const { used, weights, offset } = fit;
  const u = used.length;
  const e = new Float64Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const v = rows[r];
    let acc = -offset[t];
    for (let i = 0; i < u; i++) acc += weights[t * u + i] * v[used[i]];
    e[r] = acc;
  }
  return e;
}

/** Tail levels whose quantiles fix the exponential tail (see exponentialTails). */
const TAIL_FROM = 0.1;
const TAIL_TO = 0.05;

/**
 * Per side, the residual exceeded with probability p if the tail beyond the window's TAIL_TO (5 %)
 * quantile decays exponentially at the rate it shows between its TAIL_FROM (10 %) and TAIL_TO
 * quantiles. Heavier than the Gaussian tail, so it only ever widens a Gaussian threshold a little;
 * for a skewed or heavy-tailed residual (lognormal channels, Student t) it follows the tail the
 * window shows. Read that far in, it is moved only by a share of anomalies in the window beyond
 * ~5 % (quantiles further out were masked by earlier anomalies in the window). A side with no
 * spread gives no bound (+-Inf).
 */
export function exponentialTails(residuals: Float64Array, p: number): { upper: number; lower: number } {
  const s = Float64Array.from(residuals).sort();
  const at = (q: number) => quantileSorted(s, q);
  const side = (from: number, to: number, sign: number) => {
    const spread = sign * (to - from);
    if (!(spread > 0)) return -sign * Infinity;
    return to + (sign * spread * Math.log(TAIL_TO / p)) / Math.log(TAIL_FROM / TAIL_TO);
  };
  return {
    upper: side(at(1 - TAIL_FROM), at(1 - TAIL_TO), 1),
    lower: side(at(TAIL_FROM), at(TAIL_TO), -1),
  };
}

function quantileSorted(s: Float64Array, q: number): number {
  const pos = (s.length - 1) * q;
  const i = Math.floor(pos);
  return i + 1 < s.length ? s[i] + (pos - i) * (s[i + 1] - s[i]) : s[i];
}

function median(x: Float64Array): number {
  const s = Float64Array.from(x).sort();
  const n = s.length;
  return n % 2 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/**
 * Residuals of one row (values in the window's column order) into `out` (one per tested channel);
 * false, and `out` untouched, when a value the model reads is missing.
 */
export function jointResiduals(model: JointModel, values: ArrayLike<number>, out: Float64Array): boolean {
  const { used, weights, offset } = model;
  const u = used.length;
  for (let i = 0; i < u; i++) {
    const v = values[used[i]];
    if (v - v !== 0) return false;
  }
  for (let t = 0; t < model.tested.length; t++) {
    let acc = -offset[t];
    for (let i = 0; i < u; i++) acc += weights[t * u + i] * values[used[i]];
    out[t] = acc;
  }
  return true;
}

/** Inverse of a symmetric positive-definite u x u matrix by Cholesky; undefined when not SPD or not finite. */
export function invertSpd(A: Float64Array, u: number): Float64Array | undefined {
  const L = new Float64Array(u * u);
  for (let i = 0; i < u; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * u + j];
      for (let p = 0; p < j; p++) s -= L[i * u + p] * L[j * u + p];
      if (i === j) {
        if (!(s > 0) || !Number.isFinite(s)) return undefined;
        L[i * u + i] = Math.sqrt(s);
      } else {
        L[i * u + j] = s / L[j * u + j];
      }
    }
  }
  // inv(L), lower triangular, then A^-1 = inv(L)^T inv(L).
  const Li = new Float64Array(u * u);
  for (let i = 0; i < u; i++) {
    Li[i * u + i] = 1 / L[i * u + i];
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let p = j; p < i; p++) s += L[i * u + p] * Li[p * u + j];
      Li[i * u + j] = -s / L[i * u + i];
    }
  }
  const inv = new Float64Array(u * u);
  for (let i = 0; i < u; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let p = i; p < u; p++) s += Li[p * u + i] * Li[p * u + j];
      inv[i * u + j] = s;
      inv[j * u + i] = s;
    }
  }
  for (let i = 0; i < u * u; i++) if (!Number.isFinite(inv[i])) return undefined;
  return inv;
}

/** The window's identity (generation + content fingerprint + columns, as for the forest) and the test's options. */
export function jointModelKey(window: ReferenceWindowView, options: JointModelOptions): string {
  return `joint|${modelKey(window, { trees: 0, seed: 0 })}|${options.alpha}|${options.zThreshold}|${options.minRows ?? MIN_JOINT_ROWS}`;
}

/** Fitted joint models by window, most recent first (a fit reads the whole window: ~1 ms for 2,048 x 4). */
export class JointModelCache {
  private entries: { key: string; model: JointModel | undefined }[] = [];

  constructor(private readonly capacity = 4) {}

  get(window: ReferenceWindowView, options: JointModelOptions): JointModel | undefined {
    const key = jointModelKey(window, options);
    const at = this.entries.findIndex((e) => e.key === key);
    if (at >= 0) {
      const [hit] = this.entries.splice(at, 1);
      this.entries.unshift(hit);
      return hit.model;
    }
    const model = fitJointModel(window, options);
    this.entries.unshift({ key, model });
    if (this.entries.length > this.capacity) this.entries.length = this.capacity;
    return model;
  }

  get size(): number {
    return this.entries.length;
  }
}

export const sharedJointCache = new JointModelCache();
