import { DiscreteValues } from '../detection/discrete-values';
import { NormalBands } from '../detection/normal-bands';
import { SeasonProfile } from '../detection/season-profile';
import { TwoSidedSketch } from '../detection/tail-sketch';
import { Episode } from './channel-learning';
import { RunningStats } from './running-stats';

/** The object a batch came from; the pair is what makes a fold idempotent. */
export interface BatchSource {
  key: string;
  /** Quotes stripped, as `ObjectInfo.etag`. A changed object (new ETag) is a new batch. */
  etag: string;
}

/**
 * What one scored batch learned about one channel besides its moments, continuing the state the
 * snapshot had (src/baseline/channel-learning.ts): increments of the tails, the changes, the
 * smallest step seen, and where the channel's last value and episode stand at the end of the batch.
 */
export interface LearningDelta {
  tails: TwoSidedSketch;
  change: RunningStats;
  changeTails: TwoSidedSketch;
  discrete: DiscreteValues;
  changeDiscrete: DiscreteValues;
  /** Smallest positive step between distinct values of the batch (Infinity: none). */
  resolution: number;
  last: number;
  /** The channel's row count at the end of the batch. */
  rows: number;
  /** ms of the batch's last row with a timestamp, NaN when none. */
  time: number;
  episode: Episode;
  /** The same for the channel's changes (successive differences). */
  changeEpisode: Episode;
  /** The batch's slots of the daily and weekly profile (rows with a timestamp, channels without entities). */
  season?: SeasonProfile;
  /** The sustained statistic e (src/detection/channel-model.ts): its moments, and its value at the end of the batch. */
  sustained?: { stats: RunningStats; last: number };
  /** From an operator's "these values are normal": their standardised values (merged into the channel's bands). */
  bands?: NormalBands;
}

/**
 * What one scored batch contributes to the baseline, computed by the pipeline after scoring.
 *
 * Per channel the values are split by the learning limits (src/detection/channel-model.ts), not
 * by the flag: `accepted` holds the values within them, `rejected` the values beyond them, raw, and
 * `winsorised` those same values moved to the limit they passed and weighted as the channel's
 * episode allows (src/baseline/channel-learning.ts). The baseline folds accepted + winsorised, or
 * accepted + rejected with BASELINE_INCLUDE_ANOMALIES. Missing cells are in none of them.
 */
export interface BatchContribution {
  channels: Array<{
    channel: string;
    /** Set only when ENTITY_COLUMN is configured. */
    entity?: string;
    accepted: RunningStats;
    rejected: RunningStats;
    /** Absent from contributions built by hand (tests): the values beyond their limits are then not folded (unless includeAnomalies). */
    winsorised?: RunningStats;
    learning?: LearningDelta;
  }>;
  /**
   * Rows scored normal (raw values in `windowColumns` order, NaN for a missing cell), for the
   * isolation forest's reference window. Bounded by the pipeline to the window's capacity (the
   * last rows of the batch).
   */
  normalRows: Array<{ values: number[]; entity?: string }>;
  windowColumns: string[];
}

/** Rebuilds a learning delta that crossed a thread boundary (a structured clone keeps the fields, not the classes). */
export function reviveLearning(d: LearningDelta): LearningDelta {
  return {
    ...d,
    tails: TwoSidedSketch.revive(d.tails),
    change: RunningStats.revive(d.change),
    changeTails: TwoSidedSketch.revive(d.changeTails),
    discrete: DiscreteValues.revive(d.discrete),
    changeDiscrete: DiscreteValues.revive(d.changeDiscrete),
    episode: Episode.revive(d.episode),
    changeEpisode: Episode.revive(d.changeEpisode),
    ...(d.season ? { season: SeasonProfile.revive(d.season) } : {}),
    ...(d.sustained ? { sustained: { stats: RunningStats.revive(d.sustained.stats), last: d.sustained.last } } : {}),
  };
}
