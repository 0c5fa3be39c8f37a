/**
 * Worker thread entry: fits isolation forests, so that a fit (tens of ms of CPU) never blocks the
 * main thread's event loop. It runs the very same `fitForestModel` on a window rebuilt from the
 * posted rows, so the model is the one an in-thread fit gives (same seed, same bytes).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FOREST_FIT_WORKER } from './forest-fitter';
import { fitForestModel, ForestModelData, ForestModelOptions, toModelData } from './forest-model';
import { lowerThreadPriority } from './module-worker';
import { WindowData, windowView } from './window-transfer';

const FIT_THREAD_NICENESS = 10;

export interface FitRequest {
  id: number;
  /** Its values buffer is transferred. */
  window: WindowData;
  options: ForestModelOptions;
}

/** `model` null: the window gives no model (too few rows). The model's arrays are transferred. */
export type FitResponse = { id: number; model: ForestModelData | null } | { id: number; error: string };

// Only in a thread started as a fitting worker, not in any thread that happens to import this file.
if (parentPort && workerData === FOREST_FIT_WORKER) {
  const port = parentPort;
  // Background work, like the batch threads: the thread answering HTTP wins a contended core.
  lowerThreadPriority(FIT_THREAD_NICENESS);
  port.on('message', (req: FitRequest) => {
    let res: FitResponse;
    try {
      const model = fitForestModel(windowView(req.window), req.options);
      res = { id: req.id, model: model ? toModelData(model) : null };
    } catch (err) {
      res = { id: req.id, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    }
    const transfer = 'model' in res && res.model ? [res.model.feature.buffer, res.model.split.buffer, res.model.leaf.buffer, res.model.impute.buffer] : [];
    port.postMessage(res, transfer as ArrayBuffer[]);
  });
}
