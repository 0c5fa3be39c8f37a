/**
 * Replays one seeded stream through the real pipeline (./pipeline-replayer.ts): batch `b` goes in
 * as `raw/<stream>_<b>.csv`, and its row flags are read back from `processed/<stream>_<b>.csv`.
 * Batches go one after another: the order of folds the service's serialised baseline gives.
 */
import { createRng } from '../../src/detection/seeded-random';
import { PipelineSettings } from '../../src/processing/batch-pipeline';
import { PipelineReplayer, readScoredColumns } from './pipeline-replayer';
import { BatchFlags, StreamCounter, StreamResult } from './stream-counter';
import { batchKey, StreamOptions, StreamSpec, streamBatch } from './streams';

export interface PipelineStreamOptions extends StreamOptions {
  settings: PipelineSettings;
  /** Where the temporary data directory goes (default: the OS's); it is removed afterwards. */
  tmpRoot?: string;
}

export async function runStreamThroughPipeline(spec: StreamSpec, options: PipelineStreamOptions): Promise<StreamResult> {
  const replayer = await PipelineReplayer.create(spec.name, options.settings, { halfLife: options.halfLife, ...(options.seasonality ? { seasonality: options.seasonality } : {}) }, options.tmpRoot);
  try {
    const rng = createRng(options.seed);
    const counter = new StreamCounter(spec, { path: 'pipeline', isolation: 'corroborated', halfLife: options.halfLife, seasonality: options.seasonality ?? 'auto' });
    for (let b = 0; b < options.batches; b++) {
      const { csv, truth } = streamBatch(spec, rng, b, options.rows);
      const key = batchKey(spec, b);
      const { scored, ms, refit } = await replayer.replay(key, csv);
      counter.addTiming(ms, refit);
      counter.addBatch(b, options.rows, truth, readFlags(scored, key));
    }
    return counter.result();
  } finally {
    await replayer.close();
  }
}

/** The `anomaly` and `if_flag` columns of a scored CSV, one entry per data row. */
export function readFlags(scoredCsv: string, where: string): BatchFlags {
  const { anomaly, ifFlag } = readScoredColumns(scoredCsv, where);
  return { anomaly, ifFlag };
}
