/**
 * Replays one seeded stream through the real pipeline, as the service processes a bucket: each
 * batch is written to a LocalDirectoryStore as `raw/<stream>_<b>.csv`, opened (bytes and ETag in one
 * request), run through `processBatch` against a snapshot of the real BaselineState taken before the
 * batch, folded into that state by the `fold` callback (which returns the post-fold snapshot, for
 * the summary), and its row flags are read back from `processed/<stream>_<b>.csv` (`anomaly`,
 * `if_flag`: `True` / `False`). Batches go one after another: the order of folds the service's
 * serialised baseline gives.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { BaselineState } from '../../src/baseline/baseline-state';
import { forestOptions, modelKey } from '../../src/detection/forest-model';
import { createRng } from '../../src/detection/seeded-random';
import { batchKeys } from '../../src/processing/batch-keys';
import { PipelineSettings, processBatch } from '../../src/processing/batch-pipeline';
import { TRUE } from '../../src/processing/scored-csv.writer';
import { LocalDirectoryStore } from '../../src/storage/local-directory.store';
import { BatchFlags, StreamCounter, StreamResult } from './stream-counter';
import { batchKey, StreamOptions, StreamSpec, streamBatch } from './streams';

export interface PipelineStreamOptions extends StreamOptions {
  settings: PipelineSettings;
  /** Where the temporary data directory goes (default: the OS's); it is removed afterwards. */
  tmpRoot?: string;
}

export async function runStreamThroughPipeline(spec: StreamSpec, options: PipelineStreamOptions): Promise<StreamResult> {
  const dir = await fs.mkdtemp(path.join(options.tmpRoot ?? os.tmpdir(), `evaluate-${spec.name}-`));
  try {
    const store = new LocalDirectoryStore(dir);
    const { settings } = options;
    const rng = createRng(options.seed);
    const state = BaselineState.empty({ minCount: settings.minCount, includeAnomalies: false, halfLife: options.halfLife });
    const counter = new StreamCounter(spec, { path: 'pipeline', isolation: 'corroborated', halfLife: options.halfLife });
    const fit = forestOptions(settings.detection);
    let lastModelKey: string | undefined;

    for (let b = 0; b < options.batches; b++) {
      const { csv, truth } = streamBatch(spec, rng, b, options.rows);
      const key = batchKey(spec, b);
      const keys = batchKeys(key);
      await store.put(key, csv, 'text/csv');
      const opened = await store.open(key);
      if (opened === null) throw new Error(`${key} vanished right after it was written to ${dir}`);
      const etag = opened.info.etag;
      const snapshot = state.snapshot();

      const t0 = performance.now();
      await processBatch(store, { keys, etag, input: opened.stream }, snapshot, settings, undefined, async (contribution) => {
        const folded = state.absorb({ key, etag }, contribution);
        if (folded.status !== 'absorbed') throw new Error(`${key}: the baseline did not absorb it (${folded.status})`);
        return state.snapshot();
      });
      const ms = performance.now() - t0;
      const model = snapshot.window.size > 0 ? modelKey(snapshot.window, fit) : undefined;
      counter.addTiming(ms, model !== undefined && model !== lastModelKey);
      lastModelKey = model;

      const scored = await store.getText(keys.output);
      if (scored === null) throw new Error(`${keys.output} was not written`);
      counter.addBatch(b, options.rows, truth, readFlags(scored, keys.output));
    }
    return counter.result();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** The `anomaly` and `if_flag` columns of a scored CSV, one entry per data row. */
export function readFlags(scoredCsv: string, where: string): BatchFlags {
  const records = parse(scoredCsv, { columns: false, skip_empty_lines: true }) as string[][];
  const header = records[0] ?? [];
  const at = (name: string) => {
    const i = header.lastIndexOf(name);
    if (i < 0) throw new Error(`${where}: no ${name} column in ${header.join(',')}`);
    return i;
  };
  const anomalyAt = at('anomaly');
  const ifFlagAt = at('if_flag');
  const rows = records.length - 1;
  const flags: BatchFlags = { anomaly: new Uint8Array(rows), ifFlag: new Uint8Array(rows) };
  for (let r = 0; r < rows; r++) {
    flags.anomaly[r] = records[r + 1][anomalyAt] === TRUE ? 1 : 0;
    flags.ifFlag[r] = records[r + 1][ifFlagAt] === TRUE ? 1 : 0;
  }
  return flags;
}
