/**
 * Worker thread entry: scores blocks of rows for one batch, so that on a big file the forest walk
 * (the costliest step) runs beside the main thread's parsing and writing. Same detector, same
 * snapshot content, same settings: the output is the same bytes as scoring on the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createDetector, SampleRow } from '../detection/detector';
import { DetectionSettings } from '../detection/detection.types';
import { ForestModelCache, ForestModelData, fromModelData } from '../detection/forest-model';
import { newScoredBlock, packRow, transferables } from './scored-block';
import { SnapshotData, StaticSnapshot } from './snapshot-transfer';

export interface ScoringWorkerInit {
  snapshot: SnapshotData;
  channels: string[];
  settings: DetectionSettings;
  coldStartSample: SampleRow[];
  /** The forest the calling thread's detector uses, so that this thread does not fit it again. */
  model?: { key: string; data: ForestModelData };
}

export interface ScoreRequest {
  id: number;
  rows: number;
  values: Float64Array;
  /** Each channel's last value and sustained statistic before the block: blocks arrive out of turn. */
  previous: Float64Array;
  previousSustained: Float64Array;
}

if (parentPort) {
  const port = parentPort;
  const init = workerData as ScoringWorkerInit;
  const k = init.channels.length;
  const snapshot = StaticSnapshot.of(init.snapshot);
  const cache = new ForestModelCache(1);
  if (init.model) cache.insert(init.model.key, fromModelData(init.model.data, snapshot.window.columns, init.model.key));
  const detector = createDetector(snapshot, init.channels, init.settings, {
    cache,
    coldStartSample: init.coldStartSample,
  });
  port.on('message', (req: ScoreRequest) => {
    try {
      const block = newScoredBlock(req.id, req.rows, k, req.values);
      detector.scoreBatch(req.values, req.rows, undefined, (r, s) => packRow(block, r, k, s), req.previous, req.previousSustained);
      port.postMessage(block, transferables(block));
    } catch (err) {
      port.postMessage({ id: req.id, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    }
  });
}
