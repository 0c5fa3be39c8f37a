/**
 * Scores rows against a baseline snapshot: per-channel tests, the row rule that decides `anomaly`,
 * the isolation forest, the joint test, and the reasons. The design and its measurements are in
 * ./README.md; the short version:
 *
 * - Each channel gets one test (./channel-model.ts): its level, or for a smooth channel its change
 *   from the previous value, standardised by the channel's center and scale and read against the
 *   tails the channel has shown (./tail-sketch.ts). A value counts against its row
 *   (`channelAnomalous`) when its tail share is below alpha / 2k on its side, k the channels tested
 *   in that row (Bonferroni: at most alpha of normal rows flagged, whatever k), and it lies beyond
 *   Z_THRESHOLD scale units.
 * - Sustained test (./channel-model.ts): an exponentially weighted mean of a level-tested channel's
 *   standardised values, for shifts of a few spreads that last (k counts it as a test of its own).
 * - Values within an operator's normal bands (./normal-bands.ts) are never beyond a limit and
 *   corroborate nothing.
 * - `<ch>_zscore` is the reference's (x - mean) / std (std floored), and `<ch>_zscore_flag` the
 *   reference's |z| > Z_THRESHOLD once the channel is mature.
 * - Isolation: a forest fitted on the reference window flags a row only with corroboration: a mature
 *   channel of the row beyond its single-test limit (the tail share of a Gaussian Z_THRESHOLD).
 * - Joint test (./multivariate-test.ts, on unless `joint: false`): a channel far from what the other
 *   channels of its row predict.
 * - `anomaly_score`: R = the strongest evidence of the row, ln p / ln p_limit for a channel (so 1 at
 *   the flag limit, 2 for a tail share the square of it), the ratio to its threshold for the joint
 *   and isolation tests; 1 - 0.5 / R when flagged (in [0.5, 1)), R / 2 otherwise. It keeps ranking
 *   where a plain z saturates.
 */
import { buildChannelModel, ChannelModel, SUSTAINED_FLOOR, sustainedStep, tailShare } from './channel-model';
import { BaselineSnapshot, DetectionSettings, RowScore } from './detection.types';
import { DEFAULT_ISOLATION_QUANTILE, ForestModel, ForestModelCache, sharedForestCache } from './forest-model';
import { changeKey } from './discrete-values';
import { nearBand } from './normal-bands';
import { ForestScratch } from './isolation-forest';
import { JointModel, JointModelCache, jointResiduals, sharedJointCache } from './multivariate-test';

export { STD_FLOOR_ABSOLUTE, STD_FLOOR_RELATIVE, stdFloor } from './std-floor';
export { COLD_START_MIN_VALUES, robustCenterScale } from './channel-model';

export const DEFAULT_ALPHA = 0.001;
/** Tail shares below this count as this: ln p stays finite. */
const MIN_SHARE = 1e-300;
/** The evidence of a value inside its limits stays below 1, however the tails are shaped there. */
const BELOW_LIMIT = 0.999;

export type IsolationRule = NonNullable<DetectionSettings['isolation']>;

export interface SampleRow {
  values: ArrayLike<number>;
  entity?: string;
}

export interface DetectorOptions {
  /** Fitted forests, by window content; default: one shared by the process. */
  cache?: ForestModelCache;
  /**
   * Rows of the batch being scored (values in `channels` order, NaN = missing), in file order, for
   * the cold start of channels whose baseline is immature and for the scale of their changes. The
   * pipeline passes the rows it read for channel inference.
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
  /** The channels' models for an entity, as scored (what the baseline learns from the batch is judged by the same). */
  channelModels(entity: string | undefined): readonly ChannelModel[];
  /** Scores one row (values in `channels` order, NaN = missing) into `out`. Rows must come in file order. */
  score(values: Float64Array, entity: string | undefined, out: RowScore): void;
  /**
   * Scores `rows` row-major rows and calls `each` with a reused RowScore per row (copy what you keep).
   * Faster than `score` per row for big files: the forest walk does eight rows side by side.
   * `previous`: each channel's last value before the first of these rows (NaN: none), for a block
   * scored out of turn (a worker thread); by default the detector carries it from the rows it
   * scored last. `previousSustained`: the same for each channel's sustained statistic.
   */
  scoreBatch(
    values: Float64Array,
    rows: number,
    entities: readonly (string | undefined)[] | undefined,
    each: (row: number, score: RowScore) => void,
    previous?: ArrayLike<number>,
    previousSustained?: ArrayLike<number>,
  ): void;
}

export function createDetector(
  snapshot: BaselineSnapshot,
  channels: readonly string[],
  settings: DetectionSettings,
  options: DetectorOptions = {},
): Detector {
  return new RowDetector(snapshot, [...channels], settings, options);
}

/**
 * Per entity: the channels' models, the last value of each channel in file order, and the last one
 * its change test did not flag.
 */
interface EntityState {
  models: ChannelModel[];
  previous: Float64Array;
  lastNormal: Float64Array;
  /** Each channel's sustained statistic e after the last row. */
  sustained: Float64Array;
}

class RowDetector implements Detector {
  readonly model: ForestModel | undefined;
  readonly jointModel: JointModel | undefined;
  private readonly alpha: number;
  private readonly isolation: IsolationRule;
  private readonly byEntity = new Map<string, EntityState>();
  private readonly noEntity: EntityState;
  private readonly coldSample: Map<string, { values: Float64Array[]; changes: Float64Array[] }>;
  /** For each window column, the index of the channel feeding it. */
  private readonly featureSource: Int32Array;
  private readonly features: Float64Array;
  private readonly forestScratch: ForestScratch | undefined;
  /** Per channel, the row's tested statistic (NaN: not tested), and the value or change it standardises. */
  private readonly tested: Float64Array;
  private readonly raw: Float64Array;
  /** The same, not keyed: what the operator's normal bands compare. */
  private readonly rawExact: Float64Array;
  /** Per channel, the row's standardised e (NaN: not tested, or not beyond: no reason to give). */
  private readonly sustainedStat: Float64Array;
  /** Per channel: flagged by its own test or as the isolation flag's corroboration (a `z` reason). */
  private readonly valueFlag: Int8Array;
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
    this.isolation = options.isolation ?? settings.isolation ?? 'corroborated';
    this.coldSample = groupSample(options.coldStartSample ?? [], channels.length);
    this.noEntity = this.buildState(undefined);
    this.tested = new Float64Array(channels.length);
    this.raw = new Float64Array(channels.length);
    this.rawExact = new Float64Array(channels.length);
    this.sustainedStat = new Float64Array(channels.length);
    this.valueFlag = new Int8Array(channels.length);
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

    const jointUsable = (options.joint ?? settings.joint ?? true) && window.columns.length > 1 && source.every((i) => i >= 0);
    const jointOptions = { alpha: this.alpha, zThreshold: settings.zThreshold, ...(settings.jointMinRows !== undefined ? { minRows: settings.jointMinRows } : {}) };
    this.jointModel = jointUsable ? (options.jointCache ?? sharedJointCache).get(window, jointOptions) : undefined;
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

  channelModels(entity: string | undefined): readonly ChannelModel[] {
    return this.state(entity).models;
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
    previous?: ArrayLike<number>,
    previousSustained?: ArrayLike<number>,
  ): void {
    const n = this.channels.length;
    if (values.length < rows * n) throw new RangeError(`scoreBatch: ${rows} rows of ${n} values need ${rows * n}, got ${values.length}`);
    if (previous !== undefined) {
      if (entities !== undefined) throw new Error('scoreBatch: `previous` is for rows without entities');
      for (let c = 0; c < n; c++) this.noEntity.previous[c] = this.noEntity.lastNormal[c] = previous[c];
    }
    if (previousSustained !== undefined) for (let c = 0; c < n; c++) this.noEntity.sustained[c] = previousSustained[c];
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

  private state(entity: string | undefined): EntityState {
    if (entity === undefined) return this.noEntity;
    let st = this.byEntity.get(entity);
    if (!st) {
      st = this.buildState(entity);
      this.byEntity.set(entity, st);
    }
    return st;
  }

  private buildState(entity: string | undefined): EntityState {
    const sample = this.coldSample.get(entity ?? '');
    const settings = { alpha: this.alpha, zThreshold: this.settings.zThreshold, minCount: this.settings.minCount, channels: this.channels.length, sustained: this.settings.sustained ?? true };
    const models = this.channels.map((channel, c) =>
      buildChannelModel(this.snapshot.lookup(channel, entity), settings, sample?.values[c], sample?.changes[c]),
    );
    const previous = Float64Array.from(models, (m) => m.previous);
    return { models, previous, lastNormal: previous.slice(), sustained: Float64Array.from(models, (m) => m.previousSustained) };
  }

  /** Everything but the forest walk: z, flags, the row rule, score and reasons. */
  private finish(values: Float64Array, offset: number, entity: string | undefined, s: number, out: RowScore): void {
    const { models, previous, lastNormal, sustained } = this.state(entity);
    const n = this.channels.length;
    const tested = this.tested;
    const sustainedStat = this.sustainedStat;
    let k = 0;
    let present = 0;
    for (let c = 0; c < n; c++) {
      const v = values[offset + c];
      const m = models[c];
      const finite = v - v === 0;
      out.z[c] = finite && m.zScale === m.zScale ? (v - m.zCenter) / m.zScale : NaN;
      out.zFlag[c] = finite && m.mature ? (Math.abs(out.z[c]) > this.settings.zThreshold ? 1 : 0) : -1;
      out.channelAnomalous[c] = 0;
      this.valueFlag[c] = 0;
      tested[c] = NaN;
      sustainedStat[c] = NaN;
      if (!finite) continue;
      present++;
      if (m.level !== undefined) {
        sustained[c] = sustainedStep(sustained[c], v, m.level);
        if (m.sustainedTested) {
          sustainedStat[c] = (sustained[c] - m.sustained!.center) / m.sustained!.scale;
          k++;
        }
      }
      const t = m.tested;
      if (t !== undefined) {
        // A change is from the previous value or, when that one jumped, from the last value before
        // the jump, whichever is smaller: the step back after a spike is the spike ending, not a
        // second anomaly.
        let x = v;
        if (m.test === 'change') {
          const d1 = v - previous[c];
          const d2 = v - lastNormal[c];
          x = Math.abs(d2) < Math.abs(d1) ? d2 : d1;
        }
        this.raw[c] = m.test === 'change' ? changeKey(x) : x;
        this.rawExact[c] = x;
        const stat = (x - t.center) / t.scale;
        if (stat === stat) {
          tested[c] = stat;
          k++;
        }
      }
      previous[c] = v;
    }
    out.scorable = present > 0;

    let ratio = 0;
    let anomaly = false;
    for (let c = 0; c < n; c++) {
      const t = tested[c];
      if (t !== t) continue;
      const m = models[c];
      const ordinary = (m.tested!.ordinary?.has(this.raw[c]) ?? false) || nearBand(m.tested!.normal, this.rawExact[c], m.tested!.scale);
      const beyond = !ordinary && (t >= 0 ? t > m.upper[k] : -t > m.lower[k]);
      let r = Math.log(Math.max(MIN_SHARE, tailShare(m.tested!, t))) / m.logLimit[k];
      r = beyond ? Math.max(r, 1) : Math.min(r, BELOW_LIMIT);
      if (r > ratio) ratio = r;
      if (beyond) {
        out.channelAnomalous[c] = 1;
        this.valueFlag[c] = 1;
        anomaly = true;
      } else if (m.test === 'change') {
        lastNormal[c] = values[offset + c];
      }
    }
    for (let c = 0; c < n; c++) {
      const t = sustainedStat[c];
      if (t !== t) continue;
      const m = models[c];
      const beyond = (t >= 0 ? t > m.sustainedUpper[k] : -t > m.sustainedLower[k]) && Math.abs(sustained[c] - m.sustained!.center) >= SUSTAINED_FLOOR;
      let r = Math.log(Math.max(MIN_SHARE, tailShare(m.sustained!, t))) / m.logLimit[k];
      r = beyond ? Math.max(r, 1) : Math.min(r, BELOW_LIMIT);
      if (r > ratio) ratio = r;
      if (beyond) {
        out.channelAnomalous[c] = 1;
        anomaly = true;
      } else {
        sustainedStat[c] = NaN; // not a reason
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
          const m = models[c];
          if (t !== t || m.test === 'cold') continue;
          // A value of a kind the operator called normal corroborates nothing.
          if (nearBand(m.tested!.normal, this.rawExact[c], m.tested!.scale)) continue;
          if (t > m.corroborateUpper || -t > m.corroborateLower) {
            out.channelAnomalous[c] = 1;
            this.valueFlag[c] = 1;
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
    out.anomalyScore = anomaly ? 1 - 0.5 / Math.max(ratio, 1) : ratio / 2;
    out.reasons = anomaly ? this.reasons(models, out) : out.scorable ? '' : 'unscorable: no numeric value';
    if (joint) for (let c = 0; c < n; c++) if (this.jointFlag[c]) out.channelAnomalous[c] = 1;
  }

  private reasons(models: ChannelModel[], out: RowScore): string {
    const parts: string[] = [];
    for (let c = 0; c < this.channels.length; c++) {
      const m = models[c];
      if (this.valueFlag[c]) {
        const what = (m.season && m.test !== 'cold' ? 'seasonal ' : '') + (m.test === 'cold' ? 'robust z' : m.test === 'change' ? 'change z' : 'z');
        parts.push(`${this.channels[c]} ${what}=${formatZ(this.tested[c])}`);
      }
      if (this.sustainedStat[c] === this.sustainedStat[c]) parts.push(`${this.channels[c]} sustained z=${formatZ(this.sustainedStat[c])}`);
      // Called before the joint test's channels are marked in channelAnomalous.
      if (this.jointFlag[c]) parts.push(`${this.channels[c]} joint residual z=${formatZ(this.jointResidual[c])}`);
    }
    if (out.ifFlag && this.isolation !== 'off') parts.push('isolation');
    return parts.join('; ');
  }
}

function formatZ(z: number): string {
  const r = Math.round(z * 10) / 10;
  return (Object.is(r, -0) ? 0 : r).toFixed(1);
}

/** Finite sample values and successive changes per entity ('' for none) and channel. */
function groupSample(sample: readonly SampleRow[], channels: number): Map<string, { values: Float64Array[]; changes: Float64Array[] }> {
  const lists = new Map<string, { values: number[][]; changes: number[][]; last: Float64Array }>();
  for (const row of sample) {
    const key = row.entity ?? '';
    let per = lists.get(key);
    if (!per) {
      per = {
        values: Array.from({ length: channels }, () => []),
        changes: Array.from({ length: channels }, () => []),
        last: new Float64Array(channels).fill(NaN),
      };
      lists.set(key, per);
    }
    for (let c = 0; c < channels; c++) {
      const v = row.values[c];
      if (!Number.isFinite(v)) continue;
      per.values[c].push(v);
      if (Number.isFinite(per.last[c])) per.changes[c].push(v - per.last[c]);
      per.last[c] = v;
    }
  }
  const out = new Map<string, { values: Float64Array[]; changes: Float64Array[] }>();
  for (const [key, per] of lists) {
    out.set(key, { values: per.values.map((v) => Float64Array.from(v)), changes: per.changes.map((v) => Float64Array.from(v)) });
  }
  return out;
}
