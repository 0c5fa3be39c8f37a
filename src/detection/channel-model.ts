/**
 * What one channel's baseline means for scoring and for learning, built once per batch from the
 * snapshot: which test the channel gets, its center and scale, its tail model, and the limits in
 * standardised units beyond which a value is flagged (per number of channels tested in the row)
 * or is learned only at that limit, not as it is. The detector and the contribution builder
 * both build it, so what is flagged and what is learned come from one definition.
 *
 * Tests (src/detection/README.md has the measurements behind each choice):
 * - `level`: s = (x - mean) / scale, read against the tails learned for the channel.
 * - `change`: s = (x - previous - mean change) / change scale, for smooth channels (successive
 *   differences spread less than SMOOTH_RATIO of the values): a drifting temperature or a daily
 *   curve is judged by how it moves, not by where it is, so its slow wandering is not an anomaly
 *   and a jump is one at once.
 * - `cold`: a channel without a mature baseline, against robust statistics of the batch's own
 *   sample (median; the larger of 1.4826 MAD and the 5 %-trimmed std, so that a quantised or
 *   resting channel whose MAD is 0 still has a scale), Gaussian limits inflated for the error of a
 *   scale estimated from n values.
 * - `none`: nothing to compare with (no baseline, no sample).
 *
 * Beside the `level` test, a `sustained` one: e, an exponentially weighted mean (SUSTAINED_LAMBDA,
 * about the last 20 values) of the level's s clipped to +-SUSTAINED_CLIP, read against a Gaussian
 * of e's own learned mean and std, and only when e is SUSTAINED_FLOOR scale units or more from its
 * usual value (a channel that drifts keeps its level lagging by a steady amount: that is its usual e). It sees an incident that moves a
 * channel by two or three of its spreads for minutes (a valve closing), which a per-row test at
 * alpha / 2k sees one value in three of; the clip keeps one spike from making a sustained shift.
 * Smooth and seasonal channels have none: a smooth level wanders by nature (its change test covers
 * it), and a seasonal residual keeps the sign of its hour's slope for the whole hour.
 *
 * A seasonal channel (./season-profile.ts) is all of this on its deseasonalised value y(x, t).
 *
 * The scale is floored by the channel's resolution (the smallest step between distinct values it
 * has shown) and by STD_FLOOR_RELATIVE * |mean|: a quantised channel resting on one value has a
 * standard deviation of 0, and a step to a neighbouring value it has already shown must not be
 * infinitely surprising.
 */
import { ChannelBaseline, DiscreteData, SketchData } from './detection.types';
import { NormalBands } from './normal-bands';
import { ordinaryValues } from './discrete-values';
import { SeasonCurve } from './season-profile';
import { stdFloor } from './std-floor';
import { TailModel } from './tail-sketch';
import { normalQuantile, normalTail } from './tail-thresholds';

/**
 * Tail share per side beyond which a value is learned at its limit rather than as it is, whatever the
 * flag's alpha: learning must not move when an operator changes how much gets flagged.
 */
export const LEARN_P = 1e-4;
/** A channel is judged by its changes when the std of successive differences is below this share of its std. */
export const SMOOTH_RATIO = 0.7;
/** Fewest values of a channel in the batch sample for a cold-start test. */
export const COLD_START_MIN_VALUES = 20;
/** Learned weight of a channel's tails before they replace the Gaussian fallback. */
export const MIN_TAIL_WEIGHT = 30;
/** Weight of the newest value in the sustained statistic e. */
export const SUSTAINED_LAMBDA = 0.1;
/** |s| beyond this enters e as this. */
export const SUSTAINED_CLIP = 4;
/** e flags only this many scale units or more from its usual value: the mean of ~20 values two spreads away. */
export const SUSTAINED_FLOOR = 2;
/**
 * e is tested once this many values have shown its spread: e remembers ~2 / SUSTAINED_LAMBDA = 20
 * values, so its std is measured on ~15 independent stretches by then.
 */
export const SUSTAINED_MIN_COUNT = 300;
/** Asymptotic standard error of the normal-consistent MAD, in units of sigma / sqrt(n). */
const MAD_SE = 1.17;

export type ChannelTest = 'none' | 'cold' | 'level' | 'change';

/** One side's tail probabilities: learned, or Gaussian while too little has been learned. */
export interface SideTail {
  /** P(S >= s) as a share of all values. */
  p(s: number): number;
  /** The s beyond which P(S >= s) <= p. */
  limit(p: number): number;
}

class GaussianSide implements SideTail {
  constructor(private readonly inflation = 1) {}
  p(s: number): number {
    return normalTail(s / this.inflation);
  }
  limit(p: number): number {
    return -normalQuantile(p) * this.inflation;
  }
}

/** Center, scale and the two sides' tails of one way of standardising a value. */
export interface Standardiser {
  center: number;
  scale: number;
  upper: SideTail;
  lower: SideTail;
  /** Learning limits (s units) per side. */
  learnUpper: number;
  learnLower: number;
  /** Raw values (or changes) often seen by a quantised channel: never beyond a limit. */
  ordinary?: ReadonlySet<number>;
  /** Values (or changes) an operator said are normal, sorted: within NORMAL_BAND scales of one, never beyond a limit. */
  normal?: Float64Array;
}

export interface ChannelModel {
  test: ChannelTest;
  /** For the written `<ch>_zscore`: NaN center when none can be written. */
  zCenter: number;
  zScale: number;
  /** `<ch>_zscore_flag` is written (count >= minCount). */
  mature: boolean;
  /** What the test reads (undefined for `none`). For `change` it standardises x - previous. */
  tested?: Standardiser;
  /** How the value's level is standardised for learning (undefined when the channel has no scale yet). */
  level?: Standardiser;
  /** How the value's change is standardised for learning (undefined before a scale for changes exists). */
  change?: Standardiser;
  /** How e is standardised, for learning and (when `sustainedTested`) for the sustained test. */
  sustained?: Standardiser;
  sustainedTested: boolean;
  /** Flag limits of the sustained test per k, as `upper` / `lower`. */
  sustainedUpper: Float64Array;
  sustainedLower: Float64Array;
  /** e after the channel's last learned value (0 when unknown). */
  previousSustained: number;
  /** upper[k] / lower[k]: flag limits (s units, both positive) when k channels of the row are tested. */
  upper: Float64Array;
  lower: Float64Array;
  /** ln of the tail share at the flag limit, per k: the evidence ratio is ln p / logLimit[k]. */
  logLimit: Float64Array;
  /** Single-test limits (at Z_THRESHOLD's Gaussian tail share) corroborating an isolation flag. */
  corroborateUpper: number;
  corroborateLower: number;
  /** The previous value of the channel (for the first row's change), NaN when unknown. */
  previous: number;
  /**
   * For a seasonal channel, y(x, t): the pipeline scores and learns y in place of x, and the season
   * profile learns the x of what was learned of y.
   */
  season?: SeasonCurve;
}

export interface ChannelModelSettings {
  alpha: number;
  zThreshold: number;
  minCount: number;
  /** Channels in the file: flag limits are made for k = 1..2 channels tests. */
  channels: number;
  /** The sustained test (default on). */
  sustained?: boolean;
}

/** The one-sided tail share a row of k tested channels allows each side of each test. */
export function flagShare(k: number, alpha: number, zThreshold: number): number {
  return Math.min(alpha / (2 * Math.max(k, 1)), normalTail(zThreshold));
}

/**
 * `sample`: the batch's own values of the channel (finite), for the cold start; `sampleChanges`:
 * successive differences within the sample.
 */
export function buildChannelModel(
  b: ChannelBaseline | undefined,
  settings: ChannelModelSettings,
  sample: Float64Array | undefined,
  sampleChanges: Float64Array | undefined,
): ChannelModel {
  // Up to two tests per channel in a row (its own and the sustained one): limits for k = 1..2n.
  const n = 2 * settings.channels;
  const model: ChannelModel = {
    test: 'none',
    zCenter: NaN,
    zScale: NaN,
    mature: false,
    upper: new Float64Array(n + 1).fill(Infinity),
    lower: new Float64Array(n + 1).fill(Infinity),
    logLimit: new Float64Array(n + 1).fill(-Infinity),
    corroborateUpper: Infinity,
    corroborateLower: Infinity,
    previous: b?.last ?? NaN,
    sustainedTested: false,
    sustainedUpper: new Float64Array(n + 1).fill(Infinity),
    sustainedLower: new Float64Array(n + 1).fill(Infinity),
    previousSustained: b?.sustained?.last ?? 0,
    ...(b?.season ? { season: new SeasonCurve(b.season) } : {}),
  };
  const resolution = b?.resolution ?? Infinity;
  if (usable(b)) {
    model.zCenter = b.mean;
    model.zScale = flooredScale(b.std, b.mean, resolution);
    model.mature = b.count >= settings.minCount;
  }
  if (model.mature && b) {
    model.level = standardiser(b.mean, model.zScale, b.tails, b.discrete);
    const c = b.change;
    if (c && c.count >= settings.minCount && Number.isFinite(c.std)) {
      const scale = flooredScale(c.std, 0, resolution, model.zScale);
      model.change = standardiser(c.mean, scale, c.tails, c.discrete);
      const learned = weight(c.tails) >= MIN_TAIL_WEIGHT && weight(b.tails) >= MIN_TAIL_WEIGHT;
      // A seasonal channel's y moves at slot edges and when its profile is updated between batches:
      // its changes say nothing reliable, its level around the profile does.
      if (learned && c.std < SMOOTH_RATIO * b.std && !b.season) {
        model.test = 'change';
        model.tested = model.change;
      }
    }
    if (model.test === 'none') {
      model.test = 'level';
      model.tested = model.level;
    }
  } else if (sample && sample.length >= COLD_START_MIN_VALUES) {
    const { median, scale } = robustCenterScale(sample);
    model.test = 'cold';
    model.tested = gaussian(median, flooredScale(scale, median, resolution), coldInflation(sample.length));
    model.level = model.tested;
  }
  // Changes are learned from the first batch on, against the batch's own spread of changes until
  // the baseline has statistics of its own for them.
  if (!model.change && model.level && sampleChanges && sampleChanges.length >= COLD_START_MIN_VALUES) {
    const c = robustCenterScale(sampleChanges);
    model.change = gaussian(c.median, flooredScale(c.scale, 0, resolution, model.level.scale), coldInflation(sampleChanges.length));
  }
  // e is learned from the first batch with a level on, against what an exponentially weighted mean
  // of independent values would spread until it has statistics of its own.
  if (model.level) {
    const e = b?.sustained;
    if (e && e.count >= settings.minCount && Number.isFinite(e.std)) {
      // Gaussian from e's own moments: e averages ~20 values, and a sketch of its autocorrelated
      // history extrapolates wildly from a few hundred rows (measured: src/detection/README.md).
      model.sustained = gaussian(e.mean, Math.max(e.std, 1e-3), 1);
      // Not for a seasonal channel: within an hourly slot its residual keeps the sign of the hour's
      // slope, which an average of 20 rows reads as a shift (the seasonal stream's FPR 1.1 -> 6.2 %).
      // And only once the channel's changes show it is not smooth: in its first batches a smooth
      // channel is level-tested before its changes are learned, and its lagging level is no shift.
      const c = b?.change;
      const rough = c !== undefined && c.count >= settings.minCount && c.std >= SMOOTH_RATIO * b!.std;
      model.sustainedTested = (settings.sustained ?? true) && model.test === 'level' && !b?.season && rough && e.count >= SUSTAINED_MIN_COUNT;
    } else {
      model.sustained = gaussian(0, Math.sqrt(SUSTAINED_LAMBDA / (2 - SUSTAINED_LAMBDA)), 1);
    }
  }
  withBands(model, b?.bands);
  const t = model.tested;
  if (t) {
    for (let k = 1; k <= n; k++) {
      const share = flagShare(k, settings.alpha, settings.zThreshold);
      model.upper[k] = Math.max(settings.zThreshold, t.upper.limit(share));
      model.lower[k] = Math.max(settings.zThreshold, t.lower.limit(share));
      model.logLimit[k] = Math.log(share);
      if (model.sustainedTested) {
        model.sustainedUpper[k] = model.sustained!.upper.limit(share);
        model.sustainedLower[k] = model.sustained!.lower.limit(share);
      }
    }
    if (model.test !== 'cold') {
      const single = normalTail(settings.zThreshold);
      model.corroborateUpper = Math.max(settings.zThreshold, t.upper.limit(single));
      model.corroborateLower = Math.max(settings.zThreshold, t.lower.limit(single));
    }
  }
  return model;
}

/** The operator's normal bands go with the level's and the change's standardisers (the tested one included). */
function withBands(model: ChannelModel, bands: NormalBands | undefined): void {
  if (!bands || model.test === 'cold') return;
  const widen = (st: Standardiser | undefined, normal: number[]): Standardiser | undefined => (st && normal.length > 0 ? { ...st, normal: Float64Array.from(normal) } : st);
  const level = widen(model.level, bands.level);
  const change = widen(model.change, bands.change);
  if (model.tested !== undefined && model.tested === model.level) model.tested = level;
  else if (model.tested !== undefined && model.tested === model.change) model.tested = change;
  model.level = level;
  model.change = change;
}

/** e after value `v` (in the level's terms; a seasonal channel's y), from e before it. */
export function sustainedStep(e: number, v: number, level: Standardiser): number {
  const s = (v - level.center) / level.scale;
  const clipped = s > SUSTAINED_CLIP ? SUSTAINED_CLIP : s < -SUSTAINED_CLIP ? -SUSTAINED_CLIP : s;
  return clipped === clipped ? e + SUSTAINED_LAMBDA * (clipped - e) : e;
}

/** P(S >= s) on the side of `signed` for the tested standardiser. */
export function tailShare(t: Standardiser, signed: number): number {
  return signed >= 0 ? t.upper.p(signed) : t.lower.p(-signed);
}

/** Two standard errors of a MAD scale estimated from n values. */
function coldInflation(n: number): number {
  return 1 + (2 * MAD_SE) / Math.sqrt(n);
}

function standardiser(center: number, scale: number, tails: { upper: SketchData; lower: SketchData } | undefined, discrete: DiscreteData | undefined): Standardiser {
  const ordinary = ordinaryValues(discrete);
  const total = weight(tails);
  if (!tails || total < MIN_TAIL_WEIGHT) return { ...gaussian(center, scale, 1), ...(ordinary ? { ordinary } : {}) };
  const upper = new TailModel(tails.upper, total);
  const lower = new TailModel(tails.lower, total);
  return { center, scale, upper, lower, learnUpper: upper.limit(LEARN_P), learnLower: lower.limit(LEARN_P), ...(ordinary ? { ordinary } : {}) };
}

function gaussian(center: number, scale: number, inflation: number): Standardiser {
  const side = new GaussianSide(inflation);
  const learn = side.limit(LEARN_P);
  return { center, scale, upper: side, lower: side, learnUpper: learn, learnLower: learn };
}

function weight(t: { upper: SketchData; lower: SketchData } | undefined): number {
  if (!t) return 0;
  let w = 0;
  for (const side of [t.upper, t.lower]) for (let b = 0; b < side.weight.length; b++) w += side.weight[b];
  return w;
}

/** The scale a standardisation divides by: never below the resolution, the relative floor, or `atLeast`'s thousandth. */
export function flooredScale(std: number, mean: number, resolution: number, atLeast = 0): number {
  const step = Number.isFinite(resolution) ? resolution : 0;
  return Math.max(Number.isFinite(std) ? std : 0, step, stdFloor(mean), atLeast * 1e-3);
}

function usable(b: ChannelBaseline | undefined): b is ChannelBaseline {
  return b !== undefined && b.count >= 2 && Number.isFinite(b.mean) && Number.isFinite(b.std) && b.std >= 0;
}

/**
 * Median, and a scale that a few anomalies cannot move and a quantised channel cannot collapse:
 * the larger of 1.4826 MAD and the std of the values between the 2.5 % and 97.5 % quantiles.
 */
export function robustCenterScale(values: ArrayLike<number>): { median: number; scale: number } {
  const sorted = Float64Array.from(values).sort();
  const median = medianSorted(sorted);
  const dev = sorted.map((v) => Math.abs(v - median)).sort();
  const cut = Math.floor(sorted.length * 0.025);
  let sum = 0;
  let sq = 0;
  const m = sorted.length - 2 * cut;
  for (let i = cut; i < sorted.length - cut; i++) sum += sorted[i];
  const mean = sum / m;
  for (let i = cut; i < sorted.length - cut; i++) sq += (sorted[i] - mean) ** 2;
  return { median, scale: Math.max(1.4826 * medianSorted(dev), Math.sqrt(sq / m)) };
}

function medianSorted(a: Float64Array): number {
  const n = a.length;
  if (n === 0) return NaN;
  return n % 2 ? a[(n - 1) >> 1] : (a[n / 2 - 1] + a[n / 2]) / 2;
}
