/**
 * How far a channel's values go, learned from the values themselves: one side of the distribution
 * of standardised deviations s = |x - center| / scale, as weights in logarithmic bins, and the tail
 * probabilities read from it.
 *
 * Why not moments: real channels are quantised, resting, skewed and heavy-tailed, and a tail
 * probability read from mean and std (or widened by skewness and kurtosis) is wrong by orders of
 * magnitude on many of them; measured on the NAB series, one threshold then cannot rank a
 * heavy-tailed series and a light-tailed one together (src/detection/README.md).
 *
 * - Bins: bin 0 holds s < S0; bin b >= 1 holds [S0 * 10^((b-1)/PER_DECADE), S0 * 10^(b/PER_DECADE)),
 *   the last one open. Fixed edges make sketches mergeable exactly (add the weights) and the result
 *   independent of the order of the values. Weights decay (forgetting) and may be fractional.
 * - What goes in is decided by the learner (src/processing/contribution-builder.ts): values within
 *   their learning limit, and values beyond it only as a sustained episode grows old. So a few per
 *   cent of spikes do not teach a channel that spikes are its normal tail.
 */
import { SketchData } from './detection.types';
import { normalTail, normalQuantile } from './tail-thresholds';

/** Below this, bin 0. */
export const SKETCH_S0 = 0.05;
export const SKETCH_BINS_PER_DECADE = 16;
/** S0 to S0 * 10^8: from a twentieth of a scale unit to five million. */
export const SKETCH_BINS = 1 + SKETCH_BINS_PER_DECADE * 8;

export function sketchBin(s: number): number {
  if (!(s >= SKETCH_S0)) return 0;
  const b = 1 + Math.floor(Math.log10(s / SKETCH_S0) * SKETCH_BINS_PER_DECADE);
  return b < SKETCH_BINS ? b : SKETCH_BINS - 1;
}

/** Lower edge of bin b (0 for bin 0). */
export function sketchEdge(b: number): number {
  return b <= 0 ? 0 : SKETCH_S0 * Math.pow(10, (b - 1) / SKETCH_BINS_PER_DECADE);
}

/** Stored form: only the bins that hold weight, `[bin, weight]`. */
export type TailSketchJson = [number, number][];

export class TailSketch implements SketchData {
  readonly weight = new Float64Array(SKETCH_BINS);

  get total(): number {
    let t = 0;
    for (let b = 0; b < SKETCH_BINS; b++) t += this.weight[b];
    return t;
  }

  add(s: number, weight = 1): void {
    if (!(weight > 0) || !(s >= 0)) return;
    this.weight[sketchBin(s)] += weight;
  }

  merge(other: SketchData): this {
    for (let b = 0; b < SKETCH_BINS; b++) this.weight[b] += other.weight[b];
    return this;
  }

  decay(factor: number): this {
    for (let b = 0; b < SKETCH_BINS; b++) this.weight[b] *= factor;
    return this;
  }

  clone(): TailSketch {
    return new TailSketch().merge(this);
  }

  /** Rebuilds a sketch that crossed a thread boundary (a structured clone keeps the weights, not the class). */
  static revive(clone: SketchData): TailSketch {
    return new TailSketch().merge(clone);
  }

  toJSON(): TailSketchJson {
    const out: TailSketchJson = [];
    for (let b = 0; b < SKETCH_BINS; b++) if (this.weight[b] > 0) out.push([b, this.weight[b]]);
    return out;
  }

  static fromJSON(json: unknown, where: string): TailSketch {
    if (!Array.isArray(json)) throw new TypeError(`${where} must be an array of [bin, weight]`);
    const s = new TailSketch();
    json.forEach((e: unknown, i) => {
      const ok = Array.isArray(e) && e.length === 2 && Number.isInteger(e[0]) && e[0] >= 0 && e[0] < SKETCH_BINS && Number.isFinite(e[1]) && e[1] >= 0;
      if (!ok) throw new TypeError(`${where}[${i}] must be [bin 0-${SKETCH_BINS - 1}, weight >= 0], got ${JSON.stringify(e)}`);
      s.weight[(e as number[])[0]] = (e as number[])[1];
    });
    return s;
  }
}

/** Both sides of a channel's deviations: above and below its center. */
export class TwoSidedSketch {
  constructor(
    readonly upper = new TailSketch(),
    readonly lower = new TailSketch(),
  ) {}

  get total(): number {
    return this.upper.total + this.lower.total;
  }

  /** `signed` = (x - center) / scale. */
  add(signed: number, weight = 1): void {
    (signed >= 0 ? this.upper : this.lower).add(Math.abs(signed), weight);
  }

  merge(other: TwoSidedSketch): this {
    this.upper.merge(other.upper);
    this.lower.merge(other.lower);
    return this;
  }

  decay(factor: number): this {
    this.upper.decay(factor);
    this.lower.decay(factor);
    return this;
  }

  clone(): TwoSidedSketch {
    return new TwoSidedSketch(this.upper.clone(), this.lower.clone());
  }

  static revive(clone: { upper: SketchData; lower: SketchData }): TwoSidedSketch {
    return new TwoSidedSketch(TailSketch.revive(clone.upper), TailSketch.revive(clone.lower));
  }

  toJSON(): { upper: TailSketchJson; lower: TailSketchJson } {
    return { upper: this.upper.toJSON(), lower: this.lower.toJSON() };
  }

  static fromJSON(json: unknown, where: string): TwoSidedSketch {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new TypeError(`${where} must be {upper, lower}`);
    const o = json as Record<string, unknown>;
    return new TwoSidedSketch(TailSketch.fromJSON(o.upper, `${where}.upper`), TailSketch.fromJSON(o.lower, `${where}.lower`));
  }
}

/** Outermost share of all weight an exponential tail is fitted to, and the fewest values it takes. */
export const ANCHOR_SHARE = 0.01;
export const ANCHOR_MIN = 10;
/** A bulk is heavy when its 5 % quantile lies further out than HEAVY_RATIO times its median (a Gaussian: 2.9). */
export const HEAVY_RATIO = 3.5;
/** ...or when 3 to 4.5 of its sigmas hold more than NEAR_FACTOR times a Gaussian's weight (and at least NEAR_MIN values). */
export const NEAR_FACTOR = 3;
export const NEAR_MIN = 3;
/** ...or when more than this share of all values lies beyond 4.5 of its sigmas: too common to be anomalies. */
export const COMMON_FAR_SHARE = 0.025;
/** Smallest tail scale, in scale units: a resting channel's tail is not a wall. */
export const MIN_TAIL_SCALE = 0.25;

/**
 * The tail probabilities of one side. Two kinds of side, told apart by the bulk:
 *
 * - Light (the bulk looks Gaussian: its 5 % quantile at about 2.9 times its median, and the near
 *   tail, 3 to 4.5 sigmas, no more crowded than a Gaussian's): a Gaussian whose sigma is read from
 *   the bulk's own quantiles. The values beyond, where anomalies are, do not enter its fit, so a
 *   few per cent of spikes leave it as sharp as it was (the evaluation's streams inject 5 %).
 * - Heavy (a crowded near tail, or a long 5 % quantile): the observed weight beyond s inside the
 *   data; beyond the outermost ANCHOR_SHARE of it an exponential tail, P(S >= s) = m exp(-(s - u)
 *   / beta), beta by maximum likelihood for data truncated at the outermost value seen (values past
 *   the learning limit are not learned, and the plain mean excess of truncated data would shrink
 *   the tail a little more every round).
 *
 * A cluster far out with an empty near tail is not a heavy tail: it is a few anomalies, unless it
 * holds more than COMMON_FAR_SHARE of the values (a reading that is off in 2 % of the rows is how
 * that channel behaves).
 */
export class TailModel {
  readonly heavy: boolean;
  /** Gaussian sigma (light sides), in scale units. */
  readonly sigma: number;
  private readonly sideShare: number;
  private readonly beyond: Float64Array;
  /** Heavy sides: where the exponential takes over, the share beyond it, and its scale. */
  private readonly anchorBin: number;
  private readonly anchor: number;
  private readonly anchorShare: number;
  private readonly beta: number;

  /** `total` is the weight of both sides: shares are of all observations. */
  constructor(side: SketchData, readonly total: number) {
    const beyond = new Float64Array(SKETCH_BINS + 1);
    for (let b = SKETCH_BINS - 1; b >= 0; b--) beyond[b] = beyond[b + 1] + side.weight[b];
    this.beyond = beyond;
    const w = beyond[0];
    this.sideShare = w / Math.max(total, 1);
    const q50 = quantile(beyond, 0.5 * w);
    const q5 = quantile(beyond, 0.05 * w);
    this.sigma = Math.max(MIN_TAIL_SCALE, (q5 / 1.96 + q50 / 0.674) / 2);
    const near = weightBetween(side, 3 * this.sigma, 4.5 * this.sigma);
    const gaussianNear = w * 2 * (normalTail(3) - normalTail(4.5));
    const far = weightBetween(side, 4.5 * this.sigma, Infinity);
    this.heavy = !(q50 > 0) || q5 / q50 > HEAVY_RATIO || (near >= NEAR_MIN && near > NEAR_FACTOR * gaussianNear) || far > COMMON_FAR_SHARE * total;

    const need = Math.max(ANCHOR_MIN, ANCHOR_SHARE * total);
    let a = 0;
    for (let b = SKETCH_BINS - 1; b >= 1; b--) {
      if (beyond[b] >= need) {
        a = b;
        break;
      }
    }
    this.anchorBin = a;
    this.anchor = sketchEdge(a);
    this.anchorShare = Math.max(beyond[a], 0.5) / (total + 1);
    this.beta = Math.max(MIN_TAIL_SCALE, truncatedExponentialScale(side, beyond, a));
  }

  /** P(S >= s) as a share of all observations (both sides). */
  p(s: number): number {
    if (!this.heavy) return this.sideShare * 2 * normalTail(s / this.sigma);
    if (!(s > this.anchor)) {
      if (this.total <= 0) return 1;
      const b = sketchBin(s);
      const lo = sketchEdge(b);
      const hi = sketchEdge(b + 1);
      const f = hi > lo ? (s - lo) / (hi - lo) : 0;
      const w = this.beyond[b] - f * (this.beyond[b] - this.beyond[b + 1]);
      return Math.min(1, Math.max(this.anchorShare, w / this.total));
    }
    return this.anchorShare * Math.exp(-(s - this.anchor) / this.beta);
  }

  /** The s beyond which P(S >= s) is at most `p`. */
  limit(p: number): number {
    if (!this.heavy) return this.sigma * -normalQuantile(Math.min(0.5, p / (2 * Math.max(this.sideShare, 1e-12))));
    if (p < this.anchorShare) return this.anchor + this.beta * Math.log(this.anchorShare / p);
    return Math.min(this.anchor, quantile(this.beyond, p * this.total, this.anchorBin));
  }
}

/** The s beyond which `weight` lies (interpolated in its bin), searching bins 1..maxBin. */
function quantile(beyond: Float64Array, weight: number, maxBin = SKETCH_BINS - 1): number {
  for (let b = 1; b <= maxBin; b++) {
    if (beyond[b] <= weight) {
      const lo = sketchEdge(b - 1);
      const hi = sketchEdge(b);
      const above = beyond[b - 1];
      const f = above > beyond[b] ? (above - weight) / (above - beyond[b]) : 1;
      return lo + f * (hi - lo);
    }
  }
  return sketchEdge(maxBin);
}

function weightBetween(side: SketchData, a: number, b: number): number {
  let w = 0;
  for (let i = 1; i < SKETCH_BINS; i++) {
    const lo = sketchEdge(i);
    const hi = i === SKETCH_BINS - 1 ? Infinity : sketchEdge(i + 1);
    const overlap = Math.min(hi, b) - Math.max(lo, a);
    if (overlap > 0) w += side.weight[i] * (hi === Infinity ? 1 : overlap / (hi - lo));
  }
  return w;
}

/**
 * beta of an exponential tail above bin a's edge u, from data that stops at the outermost value
 * seen, T: the mean excess of such data is beta - (T - u) / (e^((T - u) / beta) - 1), increasing in
 * beta up to (T - u) / 2, solved by bisection. A mean excess of half the span or more says the tail
 * is no lighter than flat: a wide scale.
 */
function truncatedExponentialScale(side: SketchData, beyond: Float64Array, a: number): number {
  const u = sketchEdge(a);
  let excess = 0;
  let top = a;
  for (let b = a; b < SKETCH_BINS; b++) {
    const w = side.weight[b];
    if (w === 0) continue;
    const lo = sketchEdge(b);
    const mid = b === 0 ? SKETCH_S0 / 2 : b === SKETCH_BINS - 1 ? lo : (lo + sketchEdge(b + 1)) / 2;
    excess += w * Math.max(0, mid - u);
    top = b;
  }
  if (!(beyond[a] > 0)) return 0;
  const m = excess / beyond[a];
  const span = (top === SKETCH_BINS - 1 ? sketchEdge(top) : sketchEdge(top + 1)) - u;
  if (!(span > 0)) return m;
  if (m >= span / 2) return span * 10;
  const meanExcess = (beta: number) => beta - span / Math.expm1(span / beta);
  let lo = 1e-6;
  let hi = span * 1000;
  for (let i = 0; i < 60; i++) {
    const mid = Math.sqrt(lo * hi);
    if (meanExcess(mid) < m) lo = mid;
    else hi = mid;
  }
  return Math.sqrt(lo * hi);
}
