import { Readable } from 'node:stream';
import { BatchContribution } from '../baseline/batch-contribution';
import { BaselineSnapshot } from '../detection/detection.types';
import { ObjectStore, StorageError } from '../storage/object-store';
import { BadInputError } from './bad-input.error';
import { BatchKeys } from './batch-keys';
import { BatchSummary, buildSummary } from './batch-summary';
import { CsvScorer, ScoringOutcome, ScoringProgress, ScoringSettings } from './csv-scorer';

export interface PipelineSettings extends ScoringSettings {
  /** BASELINE_MIN_COUNT, for the summary's `baseline_mature`. */
  minCount: number;
}

export interface BatchRef {
  keys: BatchKeys;
  etag?: string;
  /** The raw object's bytes, already opened by the caller (with `etag` read from the same response). */
  input?: Readable;
}

export interface ScoredBatch {
  summary: BatchSummary;
  contribution: BatchContribution;
  outcome: ScoringOutcome;
}

/** The raw object vanished between being listed or announced and being read. */
export class SourceMissingError extends Error {
  override readonly name = 'SourceMissingError';
  constructor(readonly key: string) {
    super(`${key} does not exist (deleted after it was announced?)`);
  }
}

/**
 * One batch through storage: reads `raw/<name>.csv` as a stream, scores it against `snapshot`,
 * writes `processed/<name>.csv`, hands the batch's contribution to `fold` (the baseline), then writes
 * `processed/<name>_summary.json` with the counts `fold` returns. The summary comes last, as in the
 * reference, and it is the mark of a finished batch: a crash before it leaves no summary, so the
 * catch-up scan queues the batch again (and the baseline's ledger makes a second fold a no-op).
 *
 * Two halves, so that the first can run on a batch worker thread and the second where the baseline
 * lives: `writeScoredOutput` and `completeBatch`.
 *
 * Throws BadInputError for an unusable file, SourceMissingError when the raw object is gone, and
 * StorageError when storage fails (worth retrying).
 */
export async function processBatch(
  store: ObjectStore,
  ref: BatchRef,
  snapshot: BaselineSnapshot,
  settings: PipelineSettings,
  onProgress?: (p: ScoringProgress) => void,
  fold: (contribution: BatchContribution) => Promise<BaselineSnapshot> = async () => snapshot,
): Promise<ScoredBatch> {
  const started = performance.now();
  const outcome = await writeScoredOutput(store, ref, snapshot, settings, onProgress);
  return completeBatch(store, ref, outcome, snapshot, settings, fold, started);
}

/**
 * The scoring half: `processed/<name>.csv` written as one streamed put while the raw file is read,
 * so memory does not grow with the file. If anything fails midway (bad input found on line 900,000,
 * storage error) the put fails and leaves nothing: the local store writes a temporary file and
 * renames it only on success, S3 aborts the multipart upload.
 */
export async function writeScoredOutput(
  store: ObjectStore,
  ref: BatchRef,
  snapshot: BaselineSnapshot,
  settings: ScoringSettings,
  onProgress?: (p: ScoringProgress) => void,
): Promise<ScoringOutcome> {
  const { keys } = ref;
  const input = ref.input ?? (await store.getStream(keys.source));
  if (input === null) throw new SourceMissingError(keys.source);

  const scorer = new CsvScorer(snapshot, settings);
  // The scorer's own error, if it failed: the put reports it wrapped in a StorageError.
  let scoringError: unknown;
  async function* scored(): AsyncGenerator<Buffer> {
    try {
      yield* scorer.run(readRaw(input!, keys.source), onProgress);
    } catch (err) {
      scoringError = err;
      throw err;
    }
  }
  const body = Readable.from(scored(), { objectMode: false, highWaterMark: 1 << 20 });
  try {
    await store.put(keys.output, body, 'text/csv; charset=utf-8');
  } catch (err) {
    throw scoringError ?? err;
  } finally {
    input.destroy();
  }
  return scorer.outcome();
}

/**
 * The finishing half, once the scored CSV is complete: the fold, then the summary (with the counts
 * the fold returns). `started` is when the batch began (performance.now()), for `duration_ms`.
 */
export async function completeBatch(
  store: ObjectStore,
  ref: Pick<BatchRef, 'keys' | 'etag'>,
  outcome: ScoringOutcome,
  snapshot: BaselineSnapshot,
  settings: PipelineSettings,
  fold: (contribution: BatchContribution) => Promise<BaselineSnapshot>,
  started: number,
): Promise<ScoredBatch> {
  const { keys } = ref;
  const after = await fold(outcome.contribution);
  const summary = buildSummary(outcome, snapshot, {
    sourceKey: keys.source,
    outputKey: keys.output,
    etag: ref.etag,
    entityColumn: settings.entityColumn,
    minCount: settings.minCount,
    processedAt: new Date(),
    durationMs: Math.round(performance.now() - started),
  }, after);
  await store.put(keys.summary, JSON.stringify(summary, null, 2) + '\n', 'application/json');
  return { summary, contribution: outcome.contribution, outcome };
}

/** The raw stream, with a read failure reported as the StorageError it is (so it is retried). */
async function* readRaw(input: Readable, key: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of input) yield chunk as Buffer;
  } catch (err) {
    if (err instanceof BadInputError || err instanceof StorageError) throw err;
    throw new StorageError('get', key, err);
  }
}
