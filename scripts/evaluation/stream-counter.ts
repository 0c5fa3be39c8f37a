/**
 * Row-level counting of one replayed stream against the generator's truth: the one place where
 * precision, recall, F1 and false-positive rates are computed, whichever path produced the flags.
 */
import { IsolationRule } from '../../src/detection/detector';
import { AnomalyKind, LEVEL_SHIFT_AT, TruthEntry } from '../../src/producer/batch-generator';
import { StreamSpec } from './streams';

/** `pipeline`: raw CSV -> processBatch -> processed CSV; `detector`: the detector called directly. */
export type EvaluationPath = 'pipeline' | 'detector';

/** Per row of a batch, 1 when set. */
export interface BatchFlags {
  anomaly: Uint8Array;
  /** `if_flag`: the isolation forest found the row unusual (whether or not it counted). */
  ifFlag: Uint8Array;
}

export interface KindCounts {
  /** Injected anomalous rows of this kind. */
  rows: number;
  /** Of those, flagged `anomaly`. */
  flagged: number;
  /** Of those, with the isolation flag set. */
  isolationFlag: number;
}

export interface StreamResult {
  stream: string;
  path: EvaluationPath;
  isolation: IsolationRule;
  /** BASELINE_HALF_LIFE of the run; null = cumulative statistics. */
  halfLife: number | null;
  /** SEASONALITY of the run. */
  seasonality: string;
  batches: number;
  rows: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  precision: number;
  recall: number;
  f1: number;
  /** False positives / rows without an injected anomaly, whole stream. */
  fpr: number;
  /** Flagged rows / rows of batches with no injected anomaly (NaN when the stream has none). */
  fprAllNormalBatches: number;
  allNormalBatches: number;
  /** Anomalous rows whose isolation flag was also set. */
  isolationFlagged: number;
  /** Normal rows with the isolation flag set (counted or not). */
  isolationFlagOnNormal: number;
  /** Injected rows per kind (`spike` when the generator does not say). */
  byKind: Partial<Record<AnomalyKind, KindCounts>>;
  /** Level shift: batches after the shift with more than 2 false positives, and the last of them (relative). */
  shiftFloodBatches?: number;
  shiftLastFloodBatch?: number;
  /** Level shift: F1 and FPR without the batches from the shift to the last flood batch (the re-learning time). */
  f1AfterRelearn?: number;
  fprAfterRelearn?: number;
  /** Batches whose isolation model differed from the previous batch's (a refit). */
  refits: number;
  /** Median time of the other batches, ms: scoring only (detector) or processBatch end to end (pipeline). */
  medianBatchMs: number;
}

interface BatchCounts {
  tp: number;
  fp: number;
  fn: number;
  normal: number;
}

const f1Of = (p: number, r: number) => (p + r > 0 ? (2 * p * r) / (p + r) : 0);

export class StreamCounter {
  private readonly perBatch: BatchCounts[] = [];
  private readonly times: number[] = [];
  private readonly byKind: Partial<Record<AnomalyKind, KindCounts>> = {};
  private quietRows = 0;
  private quietFlags = 0;
  private quietBatches = 0;
  private isolationFlagged = 0;
  private isolationFlagOnNormal = 0;
  private refits = 0;
  private floodBatches = 0;
  private lastFlood = -1;
  private rows = 0;

  constructor(
    private readonly spec: StreamSpec,
    private readonly run: { path: EvaluationPath; isolation: IsolationRule; halfLife?: number; seasonality?: string },
  ) {}

  /** Batch `b` (in order) with `rows` data rows, its truth and the flags the path produced. */
  addBatch(b: number, rows: number, truth: readonly TruthEntry[], flags: BatchFlags): void {
    if (b !== this.perBatch.length) throw new Error(`batch ${b} counted out of order (expected ${this.perBatch.length})`);
    if (flags.anomaly.length !== rows || flags.ifFlag.length !== rows) {
      throw new Error(`${this.spec.name} batch ${b}: ${flags.anomaly.length} flags for ${rows} rows`);
    }
    const positive = new Uint8Array(rows);
    for (const t of truth) {
      positive[t.row] = 1;
      const kind = (this.byKind[t.kind ?? 'spike'] ??= { rows: 0, flagged: 0, isolationFlag: 0 });
      kind.rows++;
      kind.flagged += flags.anomaly[t.row];
      kind.isolationFlag += flags.ifFlag[t.row];
    }
    const here: BatchCounts = { tp: 0, fp: 0, fn: 0, normal: 0 };
    for (let r = 0; r < rows; r++) {
      const flagged = flags.anomaly[r] === 1;
      if (flagged && flags.ifFlag[r]) this.isolationFlagged++;
      if (positive[r] && flagged) here.tp++;
      else if (positive[r]) here.fn++;
      else {
        here.normal++;
        if (flagged) here.fp++;
        if (flags.ifFlag[r]) this.isolationFlagOnNormal++;
      }
    }
    this.perBatch.push(here);
    this.rows += rows;
    if (truth.length === 0) {
      this.quietBatches++;
      this.quietRows += rows;
      for (let r = 0; r < rows; r++) this.quietFlags += flags.anomaly[r];
    }
    if (this.spec.profile === 'level-shift' && b >= LEVEL_SHIFT_AT && here.fp > 2) {
      this.floodBatches++;
      this.lastFlood = b - LEVEL_SHIFT_AT;
    }
  }

  /** The batch's time; a batch that refitted the isolation model is counted, not timed. */
  addTiming(ms: number, refit: boolean): void {
    if (refit) this.refits++;
    else this.times.push(ms);
  }

  result(): StreamResult {
    const all = this.sum(this.perBatch);
    const precision = all.tp + all.fp > 0 ? all.tp / (all.tp + all.fp) : 1;
    const recall = all.tp + all.fn > 0 ? all.tp / (all.tp + all.fn) : 1;
    const sorted = [...this.times].sort((a, b) => a - b);
    let shift: Partial<StreamResult> = {};
    if (this.spec.profile === 'level-shift') {
      const kept = this.sum(this.perBatch.filter((_, b) => b < LEVEL_SHIFT_AT || b > LEVEL_SHIFT_AT + this.lastFlood));
      const p = kept.tp / Math.max(1, kept.tp + kept.fp);
      const rc = kept.tp / Math.max(1, kept.tp + kept.fn);
      shift = {
        shiftFloodBatches: this.floodBatches,
        shiftLastFloodBatch: this.lastFlood,
        f1AfterRelearn: f1Of(p, rc),
        fprAfterRelearn: kept.fp / Math.max(1, kept.normal),
      };
    }
    return {
      stream: this.spec.name,
      path: this.run.path,
      isolation: this.run.isolation,
      halfLife: this.run.halfLife ?? null,
      seasonality: this.run.seasonality ?? 'auto',
      batches: this.perBatch.length,
      rows: this.rows,
      truePositives: all.tp,
      falsePositives: all.fp,
      falseNegatives: all.fn,
      precision,
      recall,
      f1: f1Of(precision, recall),
      fpr: all.normal > 0 ? all.fp / all.normal : 0,
      fprAllNormalBatches: this.quietRows > 0 ? this.quietFlags / this.quietRows : NaN,
      allNormalBatches: this.quietBatches,
      isolationFlagged: this.isolationFlagged,
      isolationFlagOnNormal: this.isolationFlagOnNormal,
      byKind: this.byKind,
      ...shift,
      refits: this.refits,
      medianBatchMs: sorted.length ? sorted[sorted.length >> 1] : NaN,
    };
  }

  private sum(batches: readonly BatchCounts[]): BatchCounts {
    const out: BatchCounts = { tp: 0, fp: 0, fn: 0, normal: 0 };
    for (const x of batches) {
      out.tp += x.tp;
      out.fp += x.fp;
      out.fn += x.fn;
      out.normal += x.normal;
    }
    return out;
  }
}
