/**
 * How the ablation (detector-stream.ts, the detector called directly) folds a scored batch into the
 * baseline. It builds the contribution the real pipeline builds (accepted / rejected values per
 * channel by the detector's `channelAnomalous`, the batch's normal rows for the reference window) and
 * hands it to the real `BaselineState` (Welford with M3/M4, level-shift re-learning, reference
 * window). The default evaluation does not use it: it goes through `processBatch`, whose
 * ContributionBuilder does this for the service.
 */
import { BaselineState } from '../../src/baseline/baseline-state';
import { BatchContribution } from '../../src/baseline/batch-contribution';
import { RunningStats } from '../../src/baseline/running-stats';

export interface ScoredBatch {
  key: string;
  channels: readonly string[];
  /** Row-major values, `channels.length` per row, NaN = missing. */
  values: Float64Array;
  rows: number;
  /** Per row and channel: 1 when the value was judged anomalous (left out of the baseline). */
  channelAnomalous: Int8Array;
  anomaly: Uint8Array;
}

export function foldBatch(state: BaselineState, batch: ScoredBatch): void {
  const n = batch.channels.length;
  const contribution: BatchContribution = {
    channels: batch.channels.map((channel) => ({ channel, accepted: new RunningStats(), rejected: new RunningStats() })),
    normalRows: [],
    windowColumns: [...batch.channels],
  };
  for (let r = 0; r < batch.rows; r++) {
    for (let c = 0; c < n; c++) {
      const v = batch.values[r * n + c];
      const entry = contribution.channels[c];
      (batch.channelAnomalous[r * n + c] ? entry.rejected : entry.accepted).push(v);
    }
    if (!batch.anomaly[r]) contribution.normalRows.push({ values: Array.from(batch.values.subarray(r * n, (r + 1) * n)) });
  }
  state.absorb({ key: batch.key, etag: 'evaluate' }, contribution);
}
