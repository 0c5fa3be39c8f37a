import { RunningStats } from './running-stats';

/** The object a batch came from; the pair is what makes a fold idempotent. */
export interface BatchSource {
  key: string;
  /** Quotes stripped, as `ObjectInfo.etag`. A changed object (new ETag) is a new batch. */
  etag: string;
}

/**
 * What one scored batch contributes to the baseline, computed by the pipeline after scoring.
 *
 * The pipeline always splits by the detector's verdict, whatever the configuration:
 * `accepted` holds the values that were not flagged (`RowScore.channelAnomalous` 0), `rejected`
 * the values that were. Whether rejected values are folded in too (BASELINE_INCLUDE_ANOMALIES) is
 * decided by the baseline, which also needs the rejected values on their own to recognise a level
 * shift. Missing cells are in neither.
 */
export interface BatchContribution {
  channels: Array<{
    channel: string;
    /** Set only when ENTITY_COLUMN is configured. */
    entity?: string;
    accepted: RunningStats;
    rejected: RunningStats;
  }>;
  /**
   * Rows scored normal (raw values in `windowColumns` order, NaN for a missing cell), for the
   * isolation forest's reference window. Bounded by the pipeline to the window's capacity (the
   * last rows of the batch).
   */
  normalRows: Array<{ values: number[]; entity?: string }>;
  windowColumns: string[];
}
