/**
 * Scores rows against a baseline snapshot: per-channel z-scores, the row rule that decides
 * `anomaly`, the isolation forest, and the reasons. The design and its measurements are in
 * ./README.md; the short version:
 *
 * - `z = (x - mean) / max(std, floor)`, floor = max(1e-6, 1e-4 |mean|): a constant channel gives a
 *   defined (large but finite) z for any change and 0 for the constant itself. z is written when the
 *   channel's baseline has count >= 2, else NaN (empty).
 * - `<ch>_zscore_flag` keeps the reference's rule: |z| > zThreshold once count >= minCount.
 * - A value counts against its row (`channelAnomalous`) when its channel is mature and z lies beyond
 *   the family-wise threshold T_k = max(zThreshold, Phi^-1(1 - alpha / 2k)) for the k channels of
 *   that row being tested, widened per side by the Cornish-Fisher quantile of the channel's skewness
 *   and excess kurtosis (once the channel has MIN_SHAPE_COUNT observations, shrunk by their
 *   standard errors).
 * - Cold start (channel immature): when a sample of the batch is given, robust in-batch statistics
 *   (median, 1.4826 MAD) with the Gaussian T_k inflated by 1 + 2 * 1.17 / sqrt(n) for the error of a
 *   MAD scale estimated from n values.
 * - Isolation: a forest fitted on the reference window, threshold at a high quantile of the window's
 *   out-of-bag scores. It flags a row only with corroboration: some channel of the row also lies
 *   beyond the Cornish-Fisher widened zThreshold (a single-test 3-sigma level).
 * - Joint test (./multivariate-test.ts, on unless `joint: false`): a channel far from what the other
 *   channels of its row predict, by a linear model of the reference window, for the channels the
 *   others explain (R2 >= 0.5); its own budget of alpha. Catches correlation breaks, in which every
 *   value is ordinary on its own.
 */
import { BaselineSnapshot, ChannelBaseline, DetectionSettings, RowScore } from './detection.types';
import { DEFAULT_ISOLATION_QUANTILE, ForestModel, ForestModelCache, sharedForestCache } from './forest-model';
import { ForestScratch } from './isolation-forest';
import { JointModel, JointModelCache, jointResiduals, sharedJointCache } from './multivariate-test';
import { stdFloor } from './std-floor';
import { familyThreshold, tailThresholds } from './tail-thresholds';

export { STD_FLOOR_ABSOLUTE, STD_FLOOR_RELATIVE, stdFloor } from './std-floor';

export const DEFAULT_ALPHA = 0.001;
/** Fewest values of a channel in the batch sample for a cold-start test. */
export const COLD_START_MIN_VALUES = 20;
/**
 * Fewest baseline observations before skewness and kurtosis widen a channel's thresholds. Sample
 * moments of order 3 and 4 are dominated by a handful of extreme values: from a hundred values one
 * leaked 5-sigma anomaly makes a Gaussian channel look heavy-tailed (excess kurtosis ~ 6), which would
 * widen its thresholds, let the next anomalies in, and lock the channel blind.
 */
export const MIN_SHAPE_COUNT = 1000;
/** Asymptotic standard error of the normal-consistent MAD, in units of sigma / sqrt(n). */
const MAD_SE = 1.17;

export type IsolationRule = 'corroborated' | 'alone' | 'off';

export interface SampleRow {
  values: ArrayLike<number>;
  entity?: string;
}

export interface DetectorOptions {
  /** Fitted forests, by window content; default: one shared by the process. */
  cache?: ForestModelCache;
  /**
   * Rows of the batch being scored (values in `channels` order, NaN = missing), for the cold start of
   * channels whose baseline is immature. The pipeline passes the rows it read for channel inference.
   */
  coldStartSample?: readonly SampleRow[];
  /** How the isolation flag enters `anomaly` (default 'corroborated'; the others exist for `npm run evaluate`). */
  isolation?: IsolationRule;
  /**
   * The joint test (./multivariate-test.ts): a channel far from what the other channels of its row
   * predict, by a model of the reference window. Default on.
   */
  joint?: boolean;
  /** Fitted joint models, by window content; default: one shared by the process. */
  jointCache?: JointModelCache;
}

export interface Detector {
  readonly channels: readonly string[];
  /** The isolation model in use (undefined: no window yet, or its columns are not all channels). */
  readonly model: ForestModel | undefined;
  /** The joint model in use (undefined: off, too small a window, or no channel the others explain). */
  readonly jointModel: JointModel | undefined;
  newRowScore(): RowScore;
  /** Scores one row (values in `channels` order, NaN = missing) into `out`. Allocation-free except reasons of flagged rows. */
  score(values: Float64Array, entity: string | undefined, out: RowScore): void;
  /**
   * Scores `rows` row-major rows and calls `each` with a reused RowScore per row (copy what you keep).
   * Faster than `score` per row for big files: the forest walks eight rows side by side.
   */
  scoreBatch(
    values: Float64Array,
    rows: number,
    entities: readonly (string | undefined)[] | undefined,
    each: (row: number, score: RowScore) => void,
  ): void;
}


const enum Test {
  None = 0,
  Mature = 1,
  ColdStart = 2,
}

interface ChannelModel {
  /** For the written z: NaN center when no z can be written. */
  zCenter: number;
  zScale: number;
  mature: boolean;
  test: Test;
  testCenter: number;
  testScale: number;
  /** upper[k] / lower[k]: row-rule thresholds (z units) when k channels of the row are tested. */
  upper: Float64Array;
  lower: Float64Array;
  /** Single-test thresholds corroborating an isolation flag. */
  corroborateUpper: number;
  corroborateLower: number;
}

export function createDetector(
  snapshot: BaselineSnapshot,
  channels: readonly string[],
  settings: DetectionSettings,
  options: DetectorOptions = {},
): Detector {
  return new RowDetector(snapshot, [...channels], settings, options);
}

class RowDetector implements Detector {
  readonly model: ForestModel | undefined;
  readonly jointModel: JointModel | undefined;
  private readonly alpha: number;
  private readonly isolation: IsolationRule;
  private readonly byEntity = new Map<string, ChannelModel[]>();
  private readonly noEntity: ChannelModel[];
  private readonly coldSample: Map<string, Float64Array[]>;
  /** For each window column, the index of the channel feeding it. */
  private readonly featureSource: Int32Array;
  private readonly features: Float64Array;
  private readonly forestScratch: ForestScratch | undefined;
  private readonly tested: Float64Array;
  /** Joint test scratch: the row in window column order, the residuals, and which channels it flagged. */
  private readonly jointValues: Float64Array;
  private readonly jointE: Float64Array;
  private readonly jointFlag: Int8Array;
  private readonly jointResidual: Float64Array;
  private blockValues = new Float64Array(0);
  private blockScores = new Float64Array(0);
  private readonly batchOut: RowScore;

  constructor(
    private readonly snapshot: BaselineSnapshot,
    readonly channels: readonly string[],
    private readonly settings: DetectionSettings,
    options: DetectorOptions,
  ) {
    this.alpha = settings.alpha ?? DEFAULT_ALPHA;
    if (!(this.alpha > 0 && this.alpha < 1)) throw new Error(`alpha must be in (0, 1), got ${this.alpha}`);
    if (!(settings.zThreshold > 0)) throw new Error(`zThreshold must be > 0, got ${settings.zThreshold}`);
    this.isolation = options.isolation ?? 'corroborated';
    this.coldSample = groupSample(options.coldStartSample ?? [], channels.length);
    this.noEntity = this.buildModels(undefined);
    this.tested = new Float64Array(channels.length);
    this.batchOut = this.newRowScore();

    const window = snapshot.window;
    const source = window.columns.map((c) => channels.indexOf(c));
    const usable = this.isolation !== 'off' && window.columns.length > 0 && source.every((i) => i >= 0);
    const cache = options.cache ?? sharedForestCache;
    this.model = usable
      ? cache.get(window, { trees: settings.trees, seed: settings.seed, quantile: settings.isolationQuantile ?? DEFAULT_ISOLATION_QUANTILE })
      : undefined;
    this.featureSource = Int32Array.from(source);
    this.features = new Float64Array(window.columns.length);
    this.forestScratch = this.model?.forest.newScratch();

    const jointUsable = (options.joint ?? true) && window.columns.length > 1 && source.every((i) => i >= 0);
    this.jointModel = jointUsable ? (options.jointCache ?? sharedJointCache).get(window, { alpha: this.alpha, zThreshold: settings.zThreshold }) : undefined;
    this.jointValues = new Float64Array(window.columns.length);
    this.jointE = new Float64Array(this.jointModel?.tested.length ?? 0);
    this.jointFlag = new Int8Array(channels.length);
    this.jointResidual = new Float64Array(channels.length);
  }

  newRowScore(): RowScore {
    const n = this.channels.length;
    return {
      z: new Float64Array(n),
      zFlag: new Int8Array(n),
      channelAnomalous: new Int8Array(n),
      ifScore: NaN,
      ifLabel: 1,
      ifFlag: false,
      anomaly: false,
      anomalyScore: 0,
      reasons: '',
      scorable: false,
    };
  }

  score(values: Float64Array, entity: string | undefined, out: RowScore): void {
    let s = NaN;
    if (this.model && this.forestScratch) {
      const x = this.features;
      for (let f = 0; f < x.length; f++) x[f] = values[this.featureSource[f]];
      s = this.model.forest.scoreOne(x, this.forestScratch);
    }
    this.finish(values, 0, entity, s, out);
  }

  scoreBatch(
    values: Float64Array,
    rows: number,
    entities: readonly (string | undefined)[] | undefined,
    each: (row: number, score: RowScore) => void,
  ): void {
    const n = this.channels.length;
    if (values.length < rows * n) throw new RangeError(`scoreBatch: ${rows} rows of ${n} values need ${rows * n}, got ${values.length}`);
    if (this.blockScores.length < rows) this.blockScores = new Float64Array(rows);
    const scores = this.blockScores;
    if (this.model && this.forestScratch) {
      const nf = this.featureSource.length;
      if (this.blockValues.length < rows * nf) this.blockValues = new Float64Array(rows * nf);
      const block = this.blockValues;
      for (let r = 0; r < rows; r++) {
        for (let f = 0; f < nf; f++) block[r * nf + f] = values[r * n + this.featureSource[f]];
      }
      this.model.forest.scoreRows(block, rows, scores, this.forestScratch);
    } else {
      scores.fill(NaN, 0, rows);
    }
    const out = this.batchOut;
    for (let r = 0; r < rows; r++) {
      this.finish(values, r * n, entities?.[r], scores[r], out);
      each(r, out);
    }
  }

  private models(entity: string | undefined): ChannelModel[] {
    if (entity === undefined) return this.noEntity;
    let m = this.byEntity.get(entity);
    if (!m) {
      m = this.buildModels(entity);
      this.byEntity.set(entity, m);
    }
    return m;
  }

  private buildModels(entity: string | undefined): ChannelModel[] {
    const { zThreshold, minCount } = this.settings;
    const n = this.channels.length;
    const sample = this.coldSample.get(entity ?? '');
    const family = new Float64Array(n + 1);
    for (let k = 1; k <= n; k++) family[k] = familyThreshold(k, this.alpha, zThreshold);
    return this.channels.map((channel, c) => {
      const b = this.snapshot.lookup(channel, entity);
      const model: ChannelModel = {
        zCenter: NaN,
        zScale: NaN,
        mature: false,
        test: Test.None,
        testCenter: NaN,
        testScale: NaN,
        upper: new Float64Array(n + 1).fill(Infinity),
        lower: new Float64Array(n + 1).fill(-Infinity),
        corroborateUpper: Infinity,
        corroborateLower: -Infinity,
      };
      if (usableBaseline(b)) {
        model.zCenter = b.mean;
        model.zScale = Math.max(b.std, stdFloor(b.mean));
        if (b.count >= minCount) {
          model.mature = true;
          model.test = Test.Mature;
          model.testCenter = model.zCenter;
          model.testScale = model.zScale;
          const { skewness, kurtosis } = significantShape(b);
          for (let k = 1; k <= n; k++) {
            const t = tailThresholds(family[k], skewness, kurtosis);
            model.upper[k] = t.upper;
            model.lower[k] = t.lower;
          }
          const single = tailThresholds(zThreshold, skewness, kurtosis);
          model.corroborateUpper = single.upper;
          model.corroborateLower = single.lower;
          return model;
        }
      }
      const values = sample?.[c];
      if (values && values.length >= COLD_START_MIN_VALUES) {
        const { median, scale } = robustCenterScale(values);
        const inflation = 1 + (2 * MAD_SE) / Math.sqrt(values.length);
        model.test = Test.ColdStart;
        model.testCenter = median;
        model.testScale = Math.max(scale, stdFloor(median));
        for (let k = 1; k <= n; k++) {
          model.upper[k] = family[k] * inflation;
          model.lower[k] = -family[k] * inflation;
        }
      }
      return model;
    });
  }

  /** Everything but the forest walk: z, flags, the row rule, score and reasons. */
  private finish(values: Float64Array, offset: number, entity: string | undefined, s: number, out: RowScore): void {
    const models = this.models(entity);
    const n = this.channels.length;
    const tested = this.tested;
    let k = 0;
    let present = 0;
    for (let c = 0; c < n; c++) {
      const v = values[offset + c];
      const m = models[c];
      const finite = v - v === 0;
      if (finite) present++;
      out.z[c] = finite && m.zScale === m.zScale ? (v - m.zCenter) / m.zScale : NaN;
      out.zFlag[c] = finite && m.mature ? (Math.abs(out.z[c]) > this.settings.zThreshold ? 1 : 0) : -1;
      out.channelAnomalous[c] = 0;
      if (finite && m.test !== Test.None) {
        tested[c] = (v - m.testCenter) / m.testScale;
        k++;
      } else {
        tested[c] = NaN;
      }
    }
    out.scorable = present > 0;

    let ratio = 0;
    let anomaly = false;
    for (let c = 0; c < n; c++) {
      const t = tested[c];
      if (t !== t) continue;
      const m = models[c];
      const r = t >= 0 ? t / m.upper[k] : t / m.lower[k];
      if (r > ratio) ratio = r;
      if (r > 1) {
        out.channelAnomalous[c] = 1;
        anomaly = true;
      }
    }

    const model = this.model;
    if (model && s === s) {
      out.ifScore = model.threshold - s;
      out.ifFlag = out.ifScore < 0;
      out.ifLabel = out.ifFlag ? -1 : 1;
      const span = model.threshold - model.typical;
      const r = span > 0 ? Math.max(0, (s - model.typical) / span) : 0;
      if (this.isolation === 'alone' && out.ifFlag) {
        anomaly = true;
        if (r > ratio) ratio = r;
      } else if (this.isolation === 'corroborated' && out.ifFlag) {
        let corroborated = false;
        for (let c = 0; c < n; c++) {
          const t = tested[c];
          if (t !== t || models[c].test !== Test.Mature) continue;
          if (t > models[c].corroborateUpper || t < models[c].corroborateLower) {
            out.channelAnomalous[c] = 1;
            corroborated = true;
          }
        }
        if (corroborated) {
          anomaly = true;
          if (r > ratio) ratio = r;
        }
      }
    } else {
      out.ifScore = NaN;
      out.ifFlag = false;
      out.ifLabel = 1;
    }

    const joint = this.jointModel;
    if (joint) {
      this.jointFlag.fill(0);
      const x = this.jointValues;
      for (let f = 0; f < x.length; f++) x[f] = values[offset + this.featureSource[f]];
      if (jointResiduals(joint, x, this.jointE)) {
        for (let t = 0; t < joint.tested.length; t++) {
          const e = this.jointE[t];
          const r = e >= 0 ? e / joint.upper[t] : e / joint.lower[t];
          if (r > ratio) ratio = r;
          if (r > 1) {
            const c = this.featureSource[joint.tested[t]];
            this.jointFlag[c] = 1;
            this.jointResidual[c] = e;
            anomaly = true;
          }
        }
      }
    }

    out.anomaly = anomaly;
    out.anomalyScore = anomaly ? 1 - 0.5 / Math.max(ratio, 1) : ratio / (2 * (1 + ratio));
    out.reasons = anomaly ? this.reasons(models, out) : out.scorable ? '' : 'unscorable: no numeric value';
    if (joint) for (let c = 0; c < n; c++) if (this.jointFlag[c]) out.channelAnomalous[c] = 1;
  }

  private reasons(models: ChannelModel[], out: RowScore): string {
    const parts: string[] = [];
    for (let c = 0; c < this.channels.length; c++) {
      if (out.channelAnomalous[c]) {
        const cold = models[c].test === Test.ColdStart;
        parts.push(`${this.channels[c]} ${cold ? 'robust z' : 'z'}=${formatZ(this.tested[c])}`);
      }
      // Called before the joint test's channels are marked in channelAnomalous.
      if (this.jointFlag[c]) parts.push(`${this.channels[c]} joint residual z=${formatZ(this.jointResidual[c])}`);
    }
    if (out.ifFlag && this.isolation !== 'off') parts.push('isolation');
    return parts.join('; ');
  }
}

function usableBaseline(b: ChannelBaseline | undefined): b is ChannelBaseline {
  return b !== undefined && b.count >= 2 && Number.isFinite(b.mean) && Number.isFinite(b.std) && b.std >= 0;
}

/**
 * The shape used to widen thresholds: none below MIN_SHAPE_COUNT observations; above it, skewness and
 * excess kurtosis shrunk towards 0 by two of their standard errors under normality (sqrt(6/n),
 * sqrt(24/n)), so sampling noise alone never widens anything.
 */
export function significantShape(b: ChannelBaseline): { skewness: number; kurtosis: number } {
  if (b.count < MIN_SHAPE_COUNT) return { skewness: 0, kurtosis: 0 };
  const shrink = (x: number, se: number) => (Number.isFinite(x) ? Math.sign(x) * Math.max(0, Math.abs(x) - 2 * se) : 0);
  return { skewness: shrink(b.skewness, Math.sqrt(6 / b.count)), kurtosis: shrink(b.kurtosis, Math.sqrt(24 / b.count)) };
}

function formatZ(z: number): string {
  const r = Math.round(z * 10) / 10;
  return (Object.is(r, -0) ? 0 : r).toFixed(1);
}

/** Finite sample values per entity ('' for none) and channel. */
function groupSample(sample: readonly SampleRow[], channels: number): Map<string, Float64Array[]> {
  const lists = new Map<string, number[][]>();
  for (const row of sample) {
    const key = row.entity ?? '';
    let per = lists.get(key);
    if (!per) {
      per = Array.from({ length: channels }, () => []);
      lists.set(key, per);
    }
    for (let c = 0; c < channels; c++) {
      const v = row.values[c];
      if (Number.isFinite(v)) per[c].push(v);
    }
  }
  const out = new Map<string, Float64Array[]>();
  for (const [key, per] of lists) out.set(key, per.map((v) => Float64Array.from(v)));
  return out;
}

/** Median and the normal-consistent MAD (1.4826 * median |x - median|). */
export function robustCenterScale(values: ArrayLike<number>): { median: number; scale: number } {
  const sorted = Float64Array.from(values).sort();
  const median = medianSorted(sorted);
  const dev = sorted.map((v) => Math.abs(v - median)).sort();
  return { median, scale: 1.4826 * medianSorted(dev) };
}

function medianSorted(a: Float64Array): number {
  const n = a.length;
  if (n === 0) return NaN;
  return n % 2 ? a[(n - 1) >> 1] : (a[n / 2 - 1] + a[n / 2]) / 2;
}
