/**
 * Replays one labelled real series through the real pipeline as a fresh service would see it: its
 * rows cut into batches of `rows`, each dropped as `raw/<series>_<b>.csv`, and the verdict columns
 * read back and concatenated in row order.
 */
import { BaselineStateOptions } from '../../src/baseline/baseline-state';
import { PipelineSettings } from '../../src/processing/batch-pipeline';
import { PipelineReplayer, readScoredColumns } from './pipeline-replayer';
import { csvOf, LabelledSeries } from './real-data';

export interface SeriesVerdicts {
  anomaly: Uint8Array;
  anomalyScore: Float64Array;
  reasons: string[];
  batches: number;
  /** processBatch end to end, summed. */
  totalMs: number;
}

export async function replaySeries(
  series: LabelledSeries,
  settings: PipelineSettings,
  rows: number,
  baseline: Partial<BaselineStateOptions> = {},
  tmpRoot?: string,
): Promise<SeriesVerdicts> {
  const replayer = await PipelineReplayer.create(series.name, settings, baseline, tmpRoot);
  const n = series.rows.length;
  const out: SeriesVerdicts = { anomaly: new Uint8Array(n), anomalyScore: new Float64Array(n), reasons: new Array<string>(n), batches: 0, totalMs: 0 };
  const stem = series.name.replace(/\.csv$/, '').replace(/[^\w.-]+/g, '_');
  try {
    for (let from = 0, b = 0; from < n; from += rows, b++) {
      const to = Math.min(n, from + rows);
      const key = `raw/${stem}_${String(b).padStart(5, '0')}.csv`;
      const { scored, ms } = await replayer.replay(key, csvOf(series, from, to));
      const cols = readScoredColumns(scored, key);
      if (cols.anomaly.length !== to - from) throw new Error(`${key}: ${cols.anomaly.length} scored rows for ${to - from} input rows`);
      out.anomaly.set(cols.anomaly, from);
      out.anomalyScore.set(cols.anomalyScore, from);
      for (let i = 0; i < cols.reasons.length; i++) out.reasons[from + i] = cols.reasons[i];
      out.batches++;
      out.totalMs += ms;
    }
    return out;
  } finally {
    await replayer.close();
  }
}
