import { BatchContribution } from '../baseline/batch-contribution';
import { RelearnAfter } from '../baseline/channel-learning';
import { ChannelInference, inferChannels } from '../detection/channel-inference';
import { BaselineSnapshot, DetectionSettings, RowScore } from '../detection/detection.types';
import { createDetector, Detector, SampleRow } from '../detection/detector';
import { ForestModelCache, forestOptions, sharedForestCache, toModelData } from '../detection/forest-model';
import { BadInputError } from './bad-input.error';
import { ByteWriter } from './byte-writer';
import { ContributionBuilder, LearningStart } from './contribution-builder';
import { CsvReaderLimits, CsvRecord, CsvRecordReader, DEFAULT_READER_LIMITS } from './csv-record-reader';
import { parseDecimalText } from './decimal-parser';
import { newScoredBlock, packRow, ScoredBlock, unpackRow } from './scored-block';
import { scoreColumns, ScoredCsvWriter } from './scored-csv.writer';
import { ScoringWorkerClient } from './scoring-worker.client';
import { exclusionsOf, snapshotData } from './snapshot-transfer';
import { parseTimestamp } from './timestamp-parser';
import { deseasonalise, SeasonCurve } from '../detection/season-profile';
import { ExclusionWindows } from '../baseline/exclusion-windows';
import { Standardiser, sustainedStep } from '../detection/channel-model';

export interface ScoringSettings {
  detection: DetectionSettings;
  /** The CHANNELS allowlist; empty means every numeric column. */
  channels: readonly string[];
  entityColumn?: string;
  limits?: CsvReaderLimits;
  /** Normal rows handed to the reference window at most (its capacity). */
  windowCapacity?: number;
  /** When a sustained episode becomes the new normal (BASELINE_RELEARN_AFTER / _ROWS). */
  relearnAfter?: RelearnAfter;
  /** Rows read before the channels are decided. */
  sampleRows?: number;
  /** Output chunk size in bytes. */
  chunkSize?: number;
  /**
   * From this many rows on, scoring moves to a worker thread (default 65,536; `Infinity`: never).
   * Batches with ENTITY_COLUMN always score on the main thread.
   */
  workerThresholdRows?: number;
  /**
   * Where fitted forests are kept and fitted (default: the process-wide cache, which fits on the
   * shared fitting thread). A batch worker passes its own cache: it is off the main thread already.
   */
  forestCache?: ForestModelCache;
}

export interface ScoringProgress {
  bytesRead: number;
  rows: number;
}

/** What a finished scoring run knows, for the summary and the baseline. */
export interface ScoringOutcome {
  header: string[];
  inference: ChannelInference;
  totalRows: number;
  anomalyCount: number;
  unscorableRows: number;
  /** Rows in an operator's window: not learned (and, `ignore`, not flagged). */
  excludedRows: number;
  isolationFlagCount: number;
  /** Anomalous rows where no channel counted: flagged by the isolation forest alone. */
  isolationOnlyCount: number;
  /** Per channel, in `inference.channels` order. */
  channelAnomalyCounts: number[];
  zscoreFlagCounts: number[];
  missingValues: number[];
  acceptedValues: number[];
  entities: (string | undefined)[];
  contribution: BatchContribution;
  bytesRead: number;
  bytesWritten: number;
  /** Whether a worker thread did the scoring (big files). */
  usedWorker: boolean;
}

const DEFAULT_SAMPLE_ROWS = 200;
/** Rows scored together (the detector walks the forest for eight rows side by side). */
const BLOCK_ROWS = 1024;
const DEFAULT_WORKER_THRESHOLD_ROWS = 65536;
/**
 * Scoring threads a thread starts at most at once (each ~35 MB at peak). Big files beyond score on
 * their own thread: with PROCESS_CONCURRENCY 16, a backfill of big files must not start 16 threads.
 */
const MAX_SCORING_THREADS = 2;
/** Blocks scored and not formatted yet, at most: bounds memory (~1.5 MB of rows). */
const MAX_PENDING_BLOCKS = 16;
/**
 * Blocks the worker may have queued. Beyond, this thread scores the block itself: the forest walk
 * costs more than parsing and formatting together, so with the worker alone this thread would wait;
 * sharing by queue length balances the two threads, also when other processes take CPU time.
 */
const MAX_WORKER_QUEUE = 3;
/** Input is fed to the reader in slices of this size, so that the worker's results are seen often. */
const SLICE_BYTES = 256 * 1024;

/** Rows read but not scored yet. All rows of a block point into one input buffer (`buf`). */
class RowBlock {
  values: Float64Array;
  readonly start = new Int32Array(BLOCK_ROWS);
  readonly end = new Int32Array(BLOCK_ROWS);
  readonly line = new Int32Array(BLOCK_ROWS);
  /** Each row's time (ms) from the timestamp column, NaN when none. */
  readonly times = new Float64Array(BLOCK_ROWS);
  readonly entities: (string | undefined)[] | undefined;
  buf: Buffer | null = null;
  rows = 0;

  constructor(channels: number, withEntities: boolean) {
    this.values = new Float64Array(BLOCK_ROWS * channels);
    this.entities = withEntities ? new Array<string | undefined>(BLOCK_ROWS) : undefined;
  }
}

interface PendingBlock {
  block: RowBlock;
  result: Promise<ScoredBlock> | ScoredBlock;
  settled: boolean;
}

/**
 * Scores one CSV as a stream: `run(input)` yields the scored CSV in chunks while it reads, so a
 * file of any size goes through in bounded memory (one input chunk, the output it produces, the
 * first `sampleRows` rows while the channels are being decided, a few blocks in flight). Pure: no
 * storage, no framework.
 *
 * Per record, the channel cells are parsed straight from the bytes into a block of 1,024 rows. A
 * full block is scored by the detector (`scoreBatch`), and each row's original bytes are copied to
 * the output followed by the formatted scores, its values folded into the batch's contribution.
 * On big files the blocks go to a worker thread, which scores block n while this thread parses
 * block n+1 and formats block n-1; the results and their order are the same.
 *
 * Throws BadInputError (with the line) for an unusable file: empty, header only, a duplicate or
 * too wide header, no channel, a ragged row, or anything the reader refuses.
 */
export class CsvScorer {
  private readonly writer: ByteWriter;
  private readonly reader: CsvRecordReader;
  private readonly ready: Buffer[] = [];
  private readonly sampleRows: number;
  private readonly workerThreshold: number;

  private header: string[] | null = null;
  private headerBytes: Buffer | null = null;
  private sample: { line: number; raw: Buffer; fields: string[] }[] = [];
  private coldStartSample: SampleRow[] = [];
  private inference: ChannelInference | null = null;
  private detector: Detector | null = null;
  private csv: ScoredCsvWriter | null = null;
  private contribution: ContributionBuilder | null = null;
  private indices: Int32Array = new Int32Array(0);
  private entityIndex = -1;
  private timeIndex = -1;
  /** Operators' windows: rows in one are not learned, and in an `ignore` one not flagged. */
  private exclusions: ExclusionWindows | undefined;
  /** Per channel, d(t) of a seasonal channel (empty when none is seasonal). */
  private seasons: (SeasonCurve | undefined)[] = [];
  /** With an entity column, each entity's seasonal channels (its own profiles) are deseasonalised row by row. */
  private entitySeasons = false;
  /** Each channel's last finite value in file order before the next block: where its changes start. */
  private lastValues: Float64Array = new Float64Array(0);
  /** Each channel's sustained statistic after the rows handed out so far (blocks may be scored out of turn). */
  private lastSustained: Float64Array = new Float64Array(0);
  private levels: (Standardiser | undefined)[] = [];
  private started = false;

  private block: RowBlock | null = null;
  private readonly spare: RowBlock[] = [];
  private readonly pending: PendingBlock[] = [];
  private worker: ScoringWorkerClient | null = null;
  private usedWorker = false;
  /** Blocks posted to the worker and not answered yet. */
  private workerQueue = 0;
  private dispatchedRows = 0;
  private rowScore: RowScore | null = null;
  /** The block being emitted (rows come back by index into it). */
  private emitting: RowBlock | null = null;
  private readonly onScored = (r: number, score: RowScore) => this.emitRow(r, score);

  private totalRows = 0;
  private anomalyCount = 0;
  private unscorableRows = 0;
  private excludedRows = 0;
  private isolationFlagCount = 0;
  private isolationOnlyCount = 0;
  private channelAnomalyCounts: Float64Array = new Float64Array(0);
  private zscoreFlagCounts: Float64Array = new Float64Array(0);
  private missingValues: Float64Array = new Float64Array(0);
  private bytesRead = 0;
  private bytesWritten = 0;

  constructor(
    private readonly snapshot: BaselineSnapshot,
    private readonly settings: ScoringSettings,
  ) {
    this.writer = new ByteWriter(settings.chunkSize ?? 1 << 20);
    this.reader = new CsvRecordReader((rec) => this.onRecord(rec), settings.limits ?? DEFAULT_READER_LIMITS);
    this.sampleRows = Math.max(1, settings.sampleRows ?? DEFAULT_SAMPLE_ROWS);
    this.workerThreshold = settings.workerThresholdRows ?? DEFAULT_WORKER_THRESHOLD_ROWS;
  }

  /** Yields the scored CSV. `onProgress` is called after each input chunk. */
  async *run(
    input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
    onProgress?: (p: ScoringProgress) => void,
  ): AsyncGenerator<Buffer> {
    if (this.started) throw new Error('CsvScorer.run() may be called once');
    this.started = true;
    try {
      // The window's forest, when not cached yet, is fitted on the fitting worker meanwhile; the
      // detector (created synchronously once the channels are known) then finds it cached instead
      // of fitting it on this thread, which would stall the event loop for tens of ms.
      await (this.settings.forestCache ?? sharedForestCache).prepare(this.snapshot.window, forestOptions(this.settings.detection));
      for await (const chunk of input) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        this.bytesRead += bytes.length;
        for (let at = 0; at < bytes.length; at += SLICE_BYTES) {
          this.reader.push(at === 0 && bytes.length <= SLICE_BYTES ? bytes : bytes.subarray(at, at + SLICE_BYTES));
          this.flushBlock();
          // Let the worker's answers in (they arrive as events) before reading on.
          if (this.worker !== null) await new Promise<void>((resolve) => setImmediate(resolve));
          await this.drain(false);
        }
        onProgress?.({ bytesRead: this.bytesRead, rows: this.totalRows });
        while (this.ready.length > 0) yield this.emit(this.ready.shift()!);
      }
      this.reader.end();
      this.finishSampling();
      this.flushBlock();
      await this.drain(true);
      while (this.ready.length > 0) yield this.emit(this.ready.shift()!);
      if (this.writer.length > 0) yield this.emit(this.writer.take());
    } finally {
      await this.worker?.terminate();
      this.worker = null;
    }
  }

  /** Available once `run` has completed. */
  outcome(): ScoringOutcome {
    if (!this.inference || !this.contribution || !this.header || this.pending.length > 0) {
      throw new Error('scoring has not completed');
    }
    return {
      header: this.header,
      inference: this.inference,
      totalRows: this.totalRows,
      anomalyCount: this.anomalyCount,
      unscorableRows: this.unscorableRows,
      excludedRows: this.excludedRows,
      isolationFlagCount: this.isolationFlagCount,
      isolationOnlyCount: this.isolationOnlyCount,
      channelAnomalyCounts: Array.from(this.channelAnomalyCounts),
      zscoreFlagCounts: Array.from(this.zscoreFlagCounts),
      missingValues: Array.from(this.missingValues),
      acceptedValues: this.contribution.acceptedCounts(),
      entities: this.contribution.entities,
      contribution: this.contribution.build(),
      bytesRead: this.bytesRead,
      bytesWritten: this.bytesWritten,
      usedWorker: this.usedWorker,
    };
  }

  private emit(chunk: Buffer): Buffer {
    this.bytesWritten += chunk.length;
    return chunk;
  }

  private onRecord(rec: CsvRecord): void {
    if (this.header === null) {
      this.onHeader(rec);
    } else if (this.detector === null) {
      this.checkWidth(rec);
      this.sample.push({ line: rec.line, raw: Buffer.from(rec.buf.subarray(rec.start, rec.end)), fields: rec.fields() });
      if (this.sample.length >= this.sampleRows) this.start();
    } else {
      this.addRecord(rec);
    }
  }

  private onHeader(rec: CsvRecord): void {
    const header = rec.fields().map((h) => h.trim());
    const seen = new Set<string>();
    for (const name of header) {
      if (name !== '' && seen.has(name)) throw new BadInputError(`duplicate column name ${JSON.stringify(name)} in the header`, rec.line);
      seen.add(name);
    }
    this.header = header;
    this.headerBytes = Buffer.from(rec.buf.subarray(rec.start, rec.end));
  }

  private checkWidth(rec: CsvRecord): void {
    const expected = this.header!.length;
    if (rec.count !== expected) {
      throw new BadInputError(`${rec.count} fields where the header has ${expected} (ragged row)`, rec.line);
    }
  }

  private finishSampling(): void {
    if (this.header === null) throw new BadInputError('empty file: no header, no rows');
    if (this.detector !== null) return;
    if (this.sample.length === 0) throw new BadInputError('header only: the file has no data rows', this.reader.lineNumber);
    this.start();
  }

  /** Decides the channels from the header and the sample, then scores the sample. */
  private start(): void {
    const header = this.header!;
    const { channels, entityColumn } = this.settings;
    const inference = inferChannels(
      header,
      this.sample.map((s) => s.fields),
      { channels: [...channels], entityColumn },
    );
    if (inference.channels.length === 0) {
      const why = inference.excluded.map((e) => `${e.column}: ${e.reason}`).join(', ');
      const what = channels.length > 0 ? `none of the CHANNELS (${channels.join(', ')}) is in the header` : 'no numeric column';
      throw new BadInputError(`${what} (${why || 'no columns'})`, 1);
    }
    if (entityColumn && inference.entityIndex < 0) {
      throw new BadInputError(`the ENTITY_COLUMN ${JSON.stringify(entityColumn)} is not in the header`, 1);
    }
    // A scored file fed back into raw/ would get each output column twice, and readers would take
    // the input's `anomaly` for the verdict: refused, with what to do about it.
    const outputs = new Set(scoreColumns(inference.channels));
    const clashing = header.map((h) => h.trim()).filter((h) => outputs.has(h));
    if (clashing.length > 0) {
      throw new BadInputError(
        `the header has columns the scored file adds (${clashing.slice(0, 5).join(', ')}${clashing.length > 5 ? ', …' : ''}): is this a scored file? Rename them, or give the original file`,
        1,
      );
    }
    const k = inference.channels.length;
    this.inference = inference;
    this.indices = Int32Array.from(inference.indices);
    this.entityIndex = inference.entityIndex;
    this.timeIndex = inference.timeIndex;
    this.channelAnomalyCounts = new Float64Array(k);
    this.zscoreFlagCounts = new Float64Array(k);
    this.missingValues = new Float64Array(k);
    // The sample also serves the detector's cold start (robust in-batch statistics for channels whose
    // baseline is still immature).
    this.coldStartSample = this.sample.map((row) => {
      const values = inference.indices.map((i) => parseDecimalText(row.fields[i] ?? ''));
      const entity = this.entityIndex >= 0 ? row.fields[this.entityIndex].trim() : undefined;
      return entity === undefined ? { values } : { values, entity };
    });
    const detector = createDetector(this.snapshot, inference.channels, this.settings.detection, {
      cache: this.settings.forestCache,
      coldStartSample: this.coldStartSample,
    });
    this.seasons = this.timeIndex >= 0 && this.entityIndex < 0 ? detector.channelModels(undefined).map((m) => m.season) : [];
    this.entitySeasons = this.timeIndex >= 0 && this.entityIndex >= 0;
    const exclusions = exclusionsOf(this.snapshot);
    this.exclusions = this.timeIndex >= 0 && exclusions && exclusions.size > 0 ? exclusions : undefined;
    if (!this.seasons.some(Boolean)) this.seasons = [];
    this.rowScore = detector.newRowScore();
    this.lastValues = Float64Array.from(detector.channelModels(undefined), (m) => m.previous);
    this.lastSustained = Float64Array.from(detector.channelModels(undefined), (m) => m.previousSustained);
    this.levels = detector.channelModels(undefined).map((m) => m.level);
    const start = learningStarts(this.snapshot);
    this.contribution = new ContributionBuilder(
      inference.channels,
      { models: (entity) => detector.channelModels(entity), start, relearnAfter: this.settings.relearnAfter, timezone: this.settings.detection.timezone },
      this.settings.windowCapacity ?? 2048,
    );
    this.csv = new ScoredCsvWriter(this.writer, inference.channels);
    this.csv.header(this.headerBytes!, 0, this.headerBytes!.length);
    this.detector = detector;

    // The sample rows, copied while the channels were unknown, go through as one block.
    const joined = Buffer.concat(this.sample.map((row) => row.raw));
    const rec = new CsvRecord(0);
    rec.buf = joined;
    let at = 0;
    for (const row of this.sample) {
      rec.line = row.line;
      rec.start = at;
      rec.end = at += row.raw.length;
      rec.count = row.fields.length;
      rec.texts = row.fields;
      this.addRecord(rec);
    }
    this.flushBlock();
    this.sample = [];
  }

  private newBlock(): RowBlock {
    return this.spare.pop() ?? new RowBlock(this.indices.length, this.entityIndex >= 0);
  }

  private addRecord(rec: CsvRecord): void {
    this.checkWidth(rec);
    let block = this.block;
    if (block === null || (rec.buf !== block.buf && block.rows > 0)) {
      this.flushBlock();
      block = this.block = this.newBlock();
    }
    block.buf = rec.buf;
    const r = block.rows++;
    const indices = this.indices;
    const k = indices.length;
    const values = block.values;
    for (let c = 0; c < k; c++) values[r * k + c] = rec.number(indices[c]);
    if (block.entities !== undefined) block.entities[r] = rec.text(this.entityIndex).trim();
    block.start[r] = rec.start;
    block.end[r] = rec.end;
    block.line[r] = rec.line;
    block.times[r] = this.timeIndex >= 0 ? parseTimestamp(rec.text(this.timeIndex)) : NaN;
    if (block.rows === BLOCK_ROWS) this.flushBlock();
  }

  /** Scores the rows read so far: here, or handed to the worker once the file proved big. */
  private flushBlock(): void {
    const block = this.block;
    if (block === null || block.rows === 0 || this.detector === null) return;
    this.block = null;
    // A seasonal channel is scored and learned on x - d(t): done once here, so the detector, its
    // worker thread and the contribution all read the same values. The scored file keeps the row's bytes.
    if (this.seasons.length > 0) deseasonalise(block.values, block.rows, this.seasons, block.times);
    else if (this.entitySeasons && block.entities) this.deseasonaliseEntities(block);
    if (
      this.worker === null &&
      !this.usedWorker &&
      this.dispatchedRows + block.rows >= this.workerThreshold &&
      block.entities === undefined &&
      ScoringWorkerClient.running < MAX_SCORING_THREADS
    ) {
      const model = this.detector.model;
      this.worker = new ScoringWorkerClient({
        snapshot: snapshotData(this.snapshot, this.inference!.channels),
        channels: this.inference!.channels,
        settings: this.settings.detection,
        coldStartSample: this.coldStartSample,
        model: model ? { key: model.key, data: toModelData(model) } : undefined,
      });
      this.usedWorker = true;
    }
    this.dispatchedRows += block.rows;
    // Blocks may be scored out of turn (here or on the worker): each carries where its changes start.
    const previous = block.entities === undefined ? this.lastValues.slice() : undefined;
    const previousSustained = previous ? this.lastSustained.slice() : undefined;
    if (previous) this.advanceLastValues(block);
    if (this.worker === null || (this.workerQueue >= MAX_WORKER_QUEUE && this.pending.length === 0)) {
      this.emitting = block;
      this.detector.scoreBatch(block.values, block.rows, block.entities, this.onScored, previous, previousSustained);
      this.recycle(block);
      return;
    }
    if (this.workerQueue >= MAX_WORKER_QUEUE) {
      // The worker is busy: score here, kept in order behind the blocks it is working on.
      const k = this.indices.length;
      const scored = newScoredBlock(-1, block.rows, k, block.values);
      this.detector.scoreBatch(block.values, block.rows, block.entities, (r, score) => packRow(scored, r, k, score), previous, previousSustained);
      this.pending.push({ block, result: scored, settled: true });
      return;
    }
    const values = block.values;
    block.values = new Float64Array(0); // transferred to the worker; comes back with the scores
    const pending: PendingBlock = { block, result: this.worker.score(values, block.rows, previous!, previousSustained!), settled: false };
    this.workerQueue++;
    const settle = () => {
      pending.settled = true;
      this.workerQueue--;
    };
    (pending.result as Promise<ScoredBlock>).then(settle, settle);
    this.pending.push(pending);
  }

  private deseasonaliseEntities(block: RowBlock): void {
    const k = this.indices.length;
    let entity: string | undefined;
    let curves: (SeasonCurve | undefined)[] = [];
    for (let r = 0; r < block.rows; r++) {
      if (block.entities![r] !== entity || r === 0) {
        entity = block.entities![r];
        curves = this.detector!.channelModels(entity).map((m) => m.season);
      }
      for (let c = 0; c < k; c++) {
        const curve = curves[c];
        if (curve !== undefined) block.values[r * k + c] = curve.deseasonalised(block.values[r * k + c], block.times[r]);
      }
    }
  }

  private advanceLastValues(block: RowBlock): void {
    const k = this.indices.length;
    for (let c = 0; c < k; c++) {
      const level = this.levels[c];
      if (level !== undefined) {
        let e = this.lastSustained[c];
        for (let r = 0; r < block.rows; r++) {
          const v = block.values[r * k + c];
          if (v === v) e = sustainedStep(e, v, level);
        }
        this.lastSustained[c] = e;
      }
      for (let r = block.rows - 1; r >= 0; r--) {
        const v = block.values[r * k + c];
        if (v === v) {
          this.lastValues[c] = v;
          break;
        }
      }
    }
  }

  /** Formats the worker's results in order: all of them, or those ready plus any beyond the bound. */
  private async drain(all: boolean): Promise<void> {
    const k = this.indices.length;
    while (this.pending.length > 0 && (all || this.pending[0].settled || this.pending.length > MAX_PENDING_BLOCKS)) {
      const { block, result } = this.pending[0];
      const scored = await result;
      this.pending.shift();
      block.values = scored.values;
      this.emitting = block;
      const out = this.rowScore!;
      let reasonAt = 0;
      for (let r = 0; r < scored.rows; r++) {
        reasonAt = unpackRow(scored, r, k, out, reasonAt);
        this.emitRow(r, out);
      }
      this.recycle(block);
    }
  }

  private recycle(block: RowBlock): void {
    block.rows = 0;
    block.buf = null;
    this.emitting = null;
    if (this.spare.length < 4) this.spare.push(block);
  }

  private emitRow(r: number, score: RowScore): void {
    const block = this.emitting!;
    const k = this.indices.length;
    const values = block.values;
    const offset = r * k;
    const entity = block.entities?.[r];
    const excluded = this.exclusions?.at(block.times[r]);
    if (excluded?.verdict === 'ignore') ignore(score, excluded.id);
    this.csv!.row(block.buf!, block.start[r], block.end[r], score);
    if (excluded === undefined) this.contribution!.add(values, offset, entity, score, block.line[r], block.times[r]);
    else this.excludedRows++;

    this.totalRows++;
    if (score.anomaly) this.anomalyCount++;
    if (!score.scorable) this.unscorableRows++;
    else if (score.ifFlag) this.isolationFlagCount++;
    let counted = 0;
    for (let c = 0; c < k; c++) {
      if (values[offset + c] !== values[offset + c]) this.missingValues[c]++;
      if (score.zFlag[c] === 1) this.zscoreFlagCounts[c]++;
      if (score.channelAnomalous[c] === 1) {
        this.channelAnomalyCounts[c]++;
        counted++;
      }
    }
    if (score.anomaly && counted === 0) this.isolationOnlyCount++;
    if (this.writer.full) this.ready.push(this.writer.take());
  }
}

/** A row in a maintenance window: scored, not flagged (its reason says why). */
function ignore(score: RowScore, windowId: string): void {
  score.anomaly = false;
  score.anomalyScore = 0;
  score.ifFlag = false;
  score.ifLabel = 1;
  score.zFlag.forEach((f, c) => (score.zFlag[c] = f === 1 ? 0 : f));
  score.channelAnomalous.fill(0);
  score.reasons = `ignored: maintenance window ${windowId}`;
}

/** Where each channel's learning stood before the batch, when the snapshot knows (BaselineState's, or a worker's copy). */
function learningStarts(snapshot: BaselineSnapshot): ((channel: string, entity: string | undefined) => LearningStart | undefined) | undefined {
  const s = snapshot as BaselineSnapshot & { learningStart?: (channel: string, entity?: string) => LearningStart | undefined };
  return typeof s.learningStart === 'function' ? (channel, entity) => s.learningStart!(channel, entity) : undefined;
}
