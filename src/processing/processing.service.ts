import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationShutdown, OnModuleDestroy, Optional } from '@nestjs/common';
import { InvalidContributionError } from '../baseline/baseline.errors';
import { BaselineService } from '../baseline/baseline.service';
import { AppConfig } from '../config/app-config';
import { BaselineSnapshot } from '../detection/detection.types';
import { sharedForestFitter } from '../detection/forest-fitter';
import { MetricsService } from '../metrics/metrics.service';
import { InvalidKeyError, ObjectStore, StorageError } from '../storage/object-store';
import { BadInputError } from './bad-input.error';
import { errorReport, writeErrorReport } from './batch-error-report';
import { BatchKeys, batchKeys, isRawBatchKey, MAX_NAME_BYTES, PROCESSED_PREFIX } from './batch-keys';
import { completeBatch, PipelineSettings, writeScoredOutput } from './batch-pipeline';
import { BatchJob, BatchQueue, EnqueueResult, QueueCounters } from './batch-queue';
import { BatchSummary } from './batch-summary';
import { BatchWorkerPool, OpenedBatch } from './batch-worker.pool';
import { ScoringProgress } from './csv-scorer';
import { pipelineSettings } from './pipeline-settings';
import { ProcessingTuning } from './processing.tuning';

export interface ProcessingCounters extends QueueCounters {
  /** Jobs that found their object already absorbed and its outputs present. */
  skipped: number;
}

/** Told of every batch this instance finished (its summary is written), e.g. to update an index. */
export type BatchProcessedListener = (summaryKey: string, summary: BatchSummary) => void;

export interface CatchUpResult {
  /** Raw batches listed. */
  found: number;
  /** Of those, newly queued (no summary and no error report yet). */
  queued: number;
}

/** Running jobs get this long to finish at shutdown, before the baseline's final flush. */
const SHUTDOWN_GRACE_MS = 30_000;

/**
 * The batch queue of the service. Per job, in this order: skip if the baseline already absorbed
 * this version of the object (unless its outputs went missing: then rewrite them, absorbing
 * nothing), take a snapshot of the baseline, score and write `processed/<name>.csv`, fold the batch
 * into the baseline, and write `_summary.json` last. A crash anywhere before the summary leaves the
 * batch without one, so the catch-up scan queues it again: a batch never folded is processed in
 * full, one already folded (ledger) gets its outputs rewritten without a second fold.
 *
 * Failures: bad input is recorded at once in `processed/<name>_error.json`; anything else (storage)
 * is retried with exponential backoff and recorded after PROCESS_MAX_ATTEMPTS. If even that write
 * fails, the error is logged and the next catch-up scan, which queues every raw batch with neither a
 * summary nor an error report, brings the batch back.
 */
@Injectable()
export class ProcessingService implements OnModuleDestroy, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(ProcessingService.name);
  private readonly queue: BatchQueue;
  private readonly settings: PipelineSettings;
  private skipped = 0;
  private readonly listeners: BatchProcessedListener[] = [];
  /** Error reports (key -> ETag) that say the batch is not to be retried: no need to read them again. */
  private readonly finalReports = new Map<string, string>();
  private scan: Promise<CatchUpResult> | null = null;
  /** Batch worker threads; null: batches are scored on this thread (PROCESS_WORKERS=0, or ENTITY_COLUMN). */
  private readonly workers: BatchWorkerPool | null = null;

  constructor(
    private readonly store: ObjectStore,
    private readonly config: AppConfig,
    private readonly baseline: BaselineService,
    private readonly tuning: ProcessingTuning,
    @Optional() private readonly metrics?: MetricsService,
  ) {
    this.settings = pipelineSettings(config);
    const { workers } = config.processing;
    if (workers > 0 && config.detection.entityColumn) {
      // Per-entity baselines are not carried to worker threads (see snapshot-transfer.ts).
      this.logger.log(`ENTITY_COLUMN is set: batches are scored on the main thread (PROCESS_WORKERS=${workers} not used)`);
    } else if (workers > 0) {
      this.workers = new BatchWorkerPool(
        { storage: config.storage, settings: this.settings, niceness: tuning.workerNiceness },
        {
          size: workers,
          workerModule: tuning.batchWorkerModule,
          onCrash: (err) => {
            this.metrics?.batchWorkerCrashes.inc();
            this.logger.error(`${err.message}; its batches are retried and a new worker thread takes over`);
          },
        },
      );
      this.logger.log(`Batches are scored on up to ${workers} worker thread(s), ${config.processing.concurrency} in flight`);
    }
    this.queue = new BatchQueue(
      {
        run: (job) => this.timed(job),
        isRetryable: (err) => !(err instanceof BadInputError || err instanceof InvalidKeyError || err instanceof InvalidContributionError),
        onFailure: (job, err, attempts) => this.recordFailure(job, err, attempts),
        onRetry: (job, err, attempt, delayMs) =>
          this.logger.warn(`${job.key}: attempt ${attempt} failed (${message(err)}); retrying in ${delayMs} ms`),
        onAbandoned: (job, err) =>
          this.logger.warn(`${job.key}: failed while shutting down (${message(err)}); the catch-up scan retries it at the next start`),
        isOutage: (err) => err instanceof StorageError,
        onHold: (holding, err) =>
          holding
            ? this.logger.warn(`Storage failing for several batches in a row (${message(err)}): holding the queue, one batch at a time until one gets through`)
            : this.logger.log('Storage answering again: the queue runs at full concurrency'),
      },
      {
        concurrency: config.processing.concurrency,
        maxAttempts: config.processing.maxAttempts,
        retryBaseDelayMs: tuning.retryBaseDelayMs,
        retryMaxDelayMs: tuning.retryMaxDelayMs,
        outageProbeMs: tuning.outageProbeMs,
        maxQueued: tuning.maxQueued,
      },
    );
  }

  /**
   * Takes a raw batch for processing. `ignored` for keys outside the raw prefix/suffix; `duplicate`
   * when the key is already waiting or running. Throws QueueFullError when it cannot take the job
   * (too many waiting, shutting down), so the announcer can try again later. Cheap and synchronous.
   */
  enqueue(job: BatchJob): EnqueueResult {
    const { rawPrefix, rawSuffix } = this.config.ingestion;
    if (!isRawBatchKey(job.key, rawPrefix, rawSuffix)) {
      this.logger.debug(`Ignoring ${job.key}: not a ${rawPrefix}*${rawSuffix} key`);
      return 'ignored';
    }
    const result = this.queue.enqueue(job);
    if (result === 'queued') this.logger.debug(`Queued ${job.key} (${job.source})`);
    this.updateDepth();
    return result;
  }

  onBatchProcessed(listener: BatchProcessedListener): void {
    this.listeners.push(listener);
  }

  /** Resolves when nothing is queued, waiting for a retry, or running. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  get counters(): ProcessingCounters {
    return { ...this.queue.counters, skipped: this.skipped };
  }

  /**
   * Catch-up: lists raw/ and queues every batch without `processed/<name>_summary.json`, except
   * batches recorded as bad input, storage failures younger than `retryFailedAfterMs`, and (local
   * mode) files still being written. Concurrent calls share one scan.
   */
  scanRaw(): Promise<CatchUpResult> {
    this.scan ??= this.doScan().finally(() => (this.scan = null));
    return this.scan;
  }

  private async doScan(): Promise<CatchUpResult> {
    const { rawPrefix, rawSuffix } = this.config.ingestion;
    const summaries = new Set<string>();
    const reports = new Map<string, string>(); // error report key -> its ETag
    for await (const obj of this.store.list(PROCESSED_PREFIX)) {
      if (obj.key.endsWith('_summary.json')) summaries.add(obj.key);
      else if (obj.key.endsWith('_error.json')) reports.set(obj.key, obj.etag);
    }
    const localMode = !this.config.storage.bucket;
    let found = 0;
    let queued = 0;
    for await (const obj of this.store.list(rawPrefix)) {
      if (!isRawBatchKey(obj.key, rawPrefix, rawSuffix)) continue;
      found++;
      const keys = batchKeys(obj.key, rawPrefix, rawSuffix);
      if (summaries.has(keys.summary)) continue;
      // A file still being copied into DATA_DIR/raw/ is the watcher's, once its size settles.
      if (localMode && Date.now() - obj.lastModified.getTime() < this.tuning.localSettleMs) continue;
      const etag = reports.get(keys.error);
      if (etag !== undefined && !(await this.worthRetrying(keys.error, etag))) continue;
      if (this.enqueue({ key: obj.key, etag: obj.etag, source: 'catch-up' }) === 'queued') queued++;
    }
    if (queued > 0) this.logger.log(`Catch-up: ${queued} of ${found} raw batches had no output yet; queued`);
    return { found, queued };
  }

  /**
   * A batch recorded as failed is tried again by the catch-up scan only when the failure was the
   * storage's (retryable, e.g. an outage longer than the retries), and not too soon after it. Bad
   * input stays failed until someone uploads the file again or deletes the report.
   */
  private async worthRetrying(reportKey: string, etag: string): Promise<boolean> {
    // Reports that can never be retried are read once (per version), not on every scan.
    if (this.finalReports.get(reportKey) === etag) return false;
    try {
      const report = JSON.parse((await this.store.getText(reportKey)) ?? 'null') as { retryable?: unknown; failed_at?: unknown } | null;
      if (report?.retryable !== true) {
        this.finalReports.set(reportKey, etag);
        return false;
      }
      const failedAt = typeof report.failed_at === 'string' ? Date.parse(report.failed_at) : NaN;
      return !(Date.now() - failedAt < this.tuning.retryFailedAfterMs);
    } catch {
      return false; // unreadable report: leave it for a person
    }
  }

  onModuleDestroy(): void {
    this.queue.close();
  }

  async beforeApplicationShutdown(): Promise<void> {
    // Let running batches finish (and fold into the baseline) before its final flush.
    const { running } = this.queue.counters;
    if (running === 0) return;
    this.logger.log(`Waiting for ${running} running batch(es) to finish`);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.queue.idle(),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_GRACE_MS))),
    ]);
    clearTimeout(timer);
  }

  async onApplicationShutdown(): Promise<void> {
    // The forest-fitting thread (shared by the process; a later fit starts it again).
    await Promise.all([sharedForestFitter.close(), this.workers?.close()]);
  }

  private async timed(job: BatchJob): Promise<void> {
    const started = performance.now();
    try {
      if (await this.run(job)) this.metrics?.batchDuration.observe((performance.now() - started) / 1000);
    } finally {
      // The job still counts as running here; it leaves the queue right after.
      this.updateDepth(-1);
    }
  }

  private updateDepth(adjust = 0): void {
    const { queued, running } = this.queue.counters;
    this.metrics?.queueDepth.set(Math.max(0, queued + running + adjust));
  }

  /** Processes one job; false when there was nothing to do. */
  private async run(job: BatchJob): Promise<boolean> {
    const started = performance.now();
    const { rawPrefix, rawSuffix } = this.config.ingestion;
    const keys = batchKeys(job.key, rawPrefix, rawSuffix);
    if (keys.tooLong) {
      throw new BadInputError(`the file name is too long: its outputs would be named with more than ${MAX_NAME_BYTES} bytes, which file systems refuse; rename it`);
    }
    const opened = await this.open(job.key, keys);
    if (opened === null) {
      this.logger.warn(`${job.key}: no such object (deleted after it was announced?); nothing to do`);
      return false;
    }
    const { info } = opened;
    let absorbed: boolean;
    let snapshot: BaselineSnapshot;
    try {
      absorbed = this.baseline.hasAbsorbed(job.key, info.etag);
      if (absorbed) {
        if ((await this.store.head(keys.summary)) !== null) {
          opened.discard();
          this.skipped++;
          this.logger.debug(`${job.key}: this version is already processed and absorbed; skipped`);
          return false;
        }
        this.logger.warn(`${job.key}: already absorbed but ${keys.summary} is missing; rewriting the outputs only`);
      }
      snapshot = this.baseline.snapshot();
    } catch (err) {
      // The object is open (on a worker thread, perhaps): close it.
      opened.discard();
      throw err;
    }
    const outcome = await opened.score(snapshot, this.progress(job.key, info.size));
    const { summary } = await completeBatch(this.store, { keys, etag: info.etag }, outcome, snapshot, this.settings, async (contribution) => {
      if (!absorbed) {
        const folded = await this.baseline.absorb({ key: job.key, etag: info.etag }, contribution);
        for (const event of folded.events) this.logger.log(`Baseline: ${JSON.stringify(event)}`);
      } else {
        await this.baseline.savedLocally();
      }
      return this.baseline.snapshot();
    }, started);
    if (this.metrics) {
      this.metrics.batchesProcessed.inc();
      this.metrics.rowsScored.inc(summary.total_rows);
      for (const [channel, n] of Object.entries(summary.channel_anomaly_counts)) {
        if (n > 0) this.metrics.anomaliesFlagged.inc({ channel }, n);
      }
      if (outcome.isolationOnlyCount > 0) this.metrics.anomaliesFlagged.inc({ channel: 'isolation' }, outcome.isolationOnlyCount);
    }
    this.logger.log(
      `${job.key}: ${summary.total_rows} rows, ${summary.anomaly_count} anomalies` +
        (summary.unscorable_rows ? `, ${summary.unscorable_rows} unscorable` : '') +
        ` -> ${summary.output_key} (${summary.duration_ms} ms)`,
    );
    for (const listener of this.listeners) listener(keys.summary, summary);
    return true;
  }

  /**
   * One request for the bytes and the ETag of exactly those bytes (the ledger's key): on a batch
   * worker thread, which then scores it, or here.
   */
  private async open(key: string, keys: BatchKeys): Promise<OpenedBatch | null> {
    if (this.workers) return this.workers.open(key, keys);
    const opened = await this.store.open(key);
    if (opened === null) return null;
    const { stream, info } = opened;
    return {
      info,
      score: (snapshot, onProgress) => writeScoredOutput(this.store, { keys, etag: info.etag, input: stream }, snapshot, this.settings, onProgress),
      discard: () => stream.destroy(),
    };
  }

  private async recordFailure(job: BatchJob, err: unknown, attempts: number): Promise<void> {
    const { rawPrefix, rawSuffix } = this.config.ingestion;
    const keys = batchKeys(job.key, rawPrefix, rawSuffix);
    const report = errorReport(keys, err, attempts, job.etag);
    this.metrics?.batchesFailed.inc({ reason: report.kind });
    if (report.kind === 'bad-input') {
      this.logger.warn(`${job.key}: rejected, ${report.line ? `line ${report.line}: ` : ''}${report.error} -> ${keys.error}`);
    } else {
      this.logger.error(`${job.key}: failed after ${attempts} attempt(s): ${report.error} -> ${keys.error}`);
    }
    try {
      await writeErrorReport(this.store, keys, report);
    } catch (writeErr) {
      this.logger.error(
        `${job.key}: could not write ${keys.error} (${message(writeErr)}); the next catch-up scan will queue it again`,
      );
    }
  }

  /** Logs progress every 10 % of a big file. */
  private progress(key: string, size: number): ((p: ScoringProgress) => void) | undefined {
    if (size < this.tuning.progressLogMinBytes) return undefined;
    const started = performance.now();
    let next = 10;
    return ({ bytesRead, rows }) => {
      const pct = Math.floor((bytesRead / size) * 100);
      if (pct < next || pct >= 100) return;
      next = Math.floor(pct / 10) * 10 + 10;
      const seconds = (performance.now() - started) / 1000;
      this.logger.log(`${key}: ${pct}% (${rows} rows, ${Math.round(rows / Math.max(seconds, 1e-3))} rows/s)`);
    };
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
