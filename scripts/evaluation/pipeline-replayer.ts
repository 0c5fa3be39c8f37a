/**
 * Feeds batches one after another through the real pipeline, as the service processes a bucket:
 * each batch is written to a LocalDirectoryStore as a raw object, opened (bytes and ETag in one
 * request), run through `processBatch` against a snapshot of the real BaselineState taken before
 * the batch, folded into that state, and the scored CSV is read back. One replayer is one fresh
 * service: its own directory and its own baseline.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { BaselineState, BaselineStateOptions } from '../../src/baseline/baseline-state';
import { forestOptions, modelKey } from '../../src/detection/forest-model';
import { batchKeys } from '../../src/processing/batch-keys';
import { PipelineSettings, processBatch } from '../../src/processing/batch-pipeline';
import { TRUE } from '../../src/processing/scored-csv.writer';
import { LocalDirectoryStore } from '../../src/storage/local-directory.store';

export interface ReplayedBatch {
  /** The processed CSV, as written. */
  scored: string;
  /** processBatch end to end, ms. */
  ms: number;
  /** The batch was scored with another isolation model than the batch before it. */
  refit: boolean;
}

/** The verdict columns of a scored CSV, one entry per data row. */
export interface ScoredColumns {
  anomaly: Uint8Array;
  ifFlag: Uint8Array;
  anomalyScore: Float64Array;
  reasons: string[];
}

export class PipelineReplayer {
  private lastModelKey: string | undefined;

  private constructor(
    private readonly dir: string,
    private readonly store: LocalDirectoryStore,
    readonly state: BaselineState,
    private readonly settings: PipelineSettings,
  ) {}

  static async create(
    name: string,
    settings: PipelineSettings,
    baseline: Partial<BaselineStateOptions> = {},
    tmpRoot = os.tmpdir(),
  ): Promise<PipelineReplayer> {
    const dir = await fs.mkdtemp(path.join(tmpRoot, `evaluate-${name.replace(/[^\w.-]+/g, '_')}-`));
    const state = BaselineState.empty({ minCount: settings.minCount, includeAnomalies: false, relearnAfter: settings.relearnAfter, ...baseline });
    return new PipelineReplayer(dir, new LocalDirectoryStore(dir), state, settings);
  }

  async replay(key: string, csv: string): Promise<ReplayedBatch> {
    const keys = batchKeys(key);
    await this.store.put(key, csv, 'text/csv');
    const opened = await this.store.open(key);
    if (opened === null) throw new Error(`${key} vanished right after it was written to ${this.dir}`);
    const etag = opened.info.etag;
    const snapshot = this.state.snapshot();
    const t0 = performance.now();
    await processBatch(this.store, { keys, etag, input: opened.stream }, snapshot, this.settings, undefined, async (contribution) => {
      const folded = this.state.absorb({ key, etag }, contribution);
      if (folded.status !== 'absorbed') throw new Error(`${key}: the baseline did not absorb it (${folded.status})`);
      return this.state.snapshot();
    });
    const ms = performance.now() - t0;
    const model = snapshot.window.size > 0 ? modelKey(snapshot.window, forestOptions(this.settings.detection)) : undefined;
    const refit = model !== undefined && model !== this.lastModelKey;
    this.lastModelKey = model;
    const scored = await this.store.getText(keys.output);
    if (scored === null) throw new Error(`${keys.output} was not written`);
    return { scored, ms, refit };
  }

  async close(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/** The `anomaly`, `if_flag`, `anomaly_score` and `anomaly_reasons` columns of a scored CSV. */
export function readScoredColumns(scoredCsv: string, where: string): ScoredColumns {
  const records = parse(scoredCsv, { columns: false, skip_empty_lines: true, relax_column_count: true }) as string[][];
  const header = records[0] ?? [];
  const at = (name: string) => {
    const i = header.lastIndexOf(name);
    if (i < 0) throw new Error(`${where}: no ${name} column in ${header.join(',')}`);
    return i;
  };
  const anomalyAt = at('anomaly');
  const ifFlagAt = at('if_flag');
  const scoreAt = at('anomaly_score');
  const reasonsAt = at('anomaly_reasons');
  const rows = records.length - 1;
  const out: ScoredColumns = {
    anomaly: new Uint8Array(rows),
    ifFlag: new Uint8Array(rows),
    anomalyScore: new Float64Array(rows),
    reasons: new Array<string>(rows),
  };
  for (let r = 0; r < rows; r++) {
    const rec = records[r + 1];
    out.anomaly[r] = rec[anomalyAt] === TRUE ? 1 : 0;
    out.ifFlag[r] = rec[ifFlagAt] === TRUE ? 1 : 0;
    out.anomalyScore[r] = Number(rec[scoreAt]);
    out.reasons[r] = rec[reasonsAt] ?? '';
  }
  return out;
}
