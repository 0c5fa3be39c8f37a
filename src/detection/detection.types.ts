/**
 * The contract between the detection library (pure TypeScript, no framework imports), the
 * processing pipeline that feeds it rows, and the baseline that feeds it learned statistics.
 */

import type { NormalBands } from './normal-bands';
import type { SeasonData } from './season-profile';

/** What detection needs to know about one channel's learned distribution. */
export interface ChannelBaseline {
  count: number;
  mean: number;
  std: number;
  /** Sample skewness; 0 when unknown (e.g. a baseline written by the reference app). */
  skewness: number;
  /** Excess kurtosis (0 for a Gaussian); 0 when unknown. */
  kurtosis: number;
  /**
   * The learned distribution of deviations from `mean`, in units of the channel's scale, each side
   * a sketch (src/detection/tail-sketch.ts). Absent until learned (e.g. a baseline written by the
   * reference app): the Gaussian tail stands in meanwhile.
   */
  tails?: TwoSided<SketchData>;
  /** Successive differences of the channel: their statistics and learned tails. */
  change?: { count: number; mean: number; std: number; tails?: TwoSided<SketchData>; discrete?: DiscreteData };
  /**
   * The channel's sustained-shift statistic e, an exponentially weighted mean of its clipped
   * standardised level (./channel-model.ts): its learned moments, and its value after the last row
   * learned.
   */
  sustained?: { count: number; mean: number; std: number; last: number };
  /** Standardised values an operator said are normal (POST /feedback: ./normal-bands.ts), sorted. */
  bands?: NormalBands;
  /** For a channel that takes few distinct values: how often it took each (absent: too many to list). */
  discrete?: DiscreteData;
  /** Smallest step seen between two distinct values of the channel. */
  resolution?: number;
  /** The channel's last value (in file order), for the change of the next batch's first row. */
  last?: number;
  /**
   * Set when the channel follows the clock (./season-profile.ts): it is then scored, and everything
   * above is learned, on its deseasonalised value y(x, t).
   */
  season?: SeasonData;
}

/** Distinct values and their weights, for a channel (or its changes) with few of them. */
export interface DiscreteData {
  readonly values: ArrayLike<number>;
  readonly weights: ArrayLike<number>;
}

/** A sketch as plain data (what survives a structured clone to a worker thread). */
export interface SketchData {
  readonly weight: ArrayLike<number>;
}

export interface TwoSided<T> {
  upper: T;
  lower: T;
}

/** A read-only view of the baseline as it was before the batch being scored. */
export interface BaselineSnapshot {
  /** `entity` is undefined unless ENTITY_COLUMN is configured. */
  lookup(channel: string, entity?: string): ChannelBaseline | undefined;
  /** The channels with a baseline of their own (not per entity), when the snapshot can list them. */
  channelNames?(): string[];
  /** Recent rows scored normal, the isolation forest's training data (raw values, channel order of `columns`). */
  readonly window: ReferenceWindowView;
}

export interface ReferenceWindowView {
  /** Channel names, in the order of each row's values. */
  readonly columns: readonly string[];
  /** Number of rows held. */
  readonly size: number;
  /** Increases whenever rows are added or removed: a model fit on the window can be cached by it. */
  readonly generation: number;
  row(i: number): { values: ArrayLike<number>; entity?: string };
}

export interface DetectionSettings {
  zThreshold: number;
  minCount: number;
  trees: number;
  seed: number;
  /** Family-wise false-alarm rate per row of the row rule (default 0.001). See src/detection/README.md. */
  alpha?: number;
  /** Quantile of the reference window's out-of-bag isolation scores used as the isolation threshold (default 0.999). */
  isolationQuantile?: number;
  /** How the isolation flag enters `anomaly` (default 'corroborated'; DetectorOptions.isolation wins). */
  isolation?: 'corroborated' | 'alone' | 'off';
  /** The joint test (default on; DetectorOptions.joint wins). */
  joint?: boolean;
  /** Complete reference-window rows before the joint test has a model (default 1,000). */
  jointMinRows?: number;
  /** IANA time zone of the daily and weekly slots (default UTC). */
  timezone?: string;
  /** The sustained-shift test (default on; off for `npm run evaluate`'s ablation). */
  sustained?: boolean;
}

/** Per-row result, written as the scored CSV's extra columns. */
export interface RowScore {
  /** Per channel z-score; NaN when the value is missing or not numeric (written as an empty cell). */
  z: Float64Array;
  /**
   * Per channel, the reference's rule |z| > Z_THRESHOLD: 1 flagged, 0 not flagged, -1 immature
   * baseline or missing value (written as empty, as the reference does).
   */
  zFlag: Int8Array;
  /** Per channel: 1 when the value counts as anomalous for the row (it is left out of the baseline). */
  channelAnomalous: Int8Array;
  /** threshold - s (scikit-learn's decision_function sign: below 0 is anomalous); NaN (written empty) while there is no model. */
  ifScore: number;
  ifLabel: 1 | -1;
  ifFlag: boolean;
  anomaly: boolean;
  /** In [0, 1], for ranking. */
  anomalyScore: number;
  /** e.g. `temperature z=6.2; isolation`; empty when not anomalous. */
  reasons: string;
  /** False when no channel of the row holds a number: the row is kept in the output and counted. */
  scorable: boolean;
}
