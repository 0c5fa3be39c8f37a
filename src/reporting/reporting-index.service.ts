import { Injectable, Logger, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { ProcessingService } from '../processing/processing.service';
import { ObjectStore, StorageError } from '../storage/object-store';
import { AnomalyRow, readAnomalyRows, readScoredSeries, ScoredSeries, SourceStreamError } from './scored-csv.reader';
import { BatchSummary, IndexEntry, loadSavedIndex, saveIndex, SummaryIndex, summaryProblem } from './summary-index';

const PROCESSED_PREFIX = 'processed/';
export const SAVED_INDEX_KEY = 'state/reporting-index.json';
const SUMMARY_SUFFIX = '_summary.json';
const READ_CONCURRENCY = 32;
/** /anomalies/recent reads the anomalies of this many newest scored files (the reference's rule). */
export const RECENT_FILES = 10;
export const MAX_RECENT_LIMIT = 1000;
const CACHED_FILES = 64;

export const MAX_SERIES_FILES = 50;
const SERIES_ROWS_PER_FILE = 1000;

export interface RecentBatch {
  summary: BatchSummary;
  series: ScoredSeries;
}

export interface RecentAnomalies {
  count: number;
  anomalies: (AnomalyRow & { source_file: string })[];
}

/**
 * Keeps the index of processed batches: built once at start-up by one paged listing plus reads,
 * updated as this instance scores batches (`record`), and refreshed on a schedule so batches written
 * by another instance are picked up too.
 */
@Injectable()
export class ReportingIndexService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ReportingIndexService.name);
  private readonly index = new SummaryIndex();
  /** Summaries that failed to parse, by key -> etag, so a bad file is logged once, not every refresh. */
  private readonly rejected = new Map<string, string>();
  private readonly rowCache = new Map<string, AnomalyRow[]>();
  private readonly seriesCache = new Map<string, ScoredSeries>();
  private building?: Promise<void>;
  private refreshing?: Promise<void>;
  private savedLoaded = false;
  private unsaved = false;

  constructor(
    private readonly store: ObjectStore,
    @Optional() processing?: ProcessingService,
  ) {
    // Batches this instance scores are indexed as they finish; the refresh picks up other writers'.
    processing?.onBatchProcessed((summaryKey, summary) => this.record(summaryKey, summary));
  }

  onApplicationBootstrap(): void {
    // Not awaited: a large bucket must not hold up start-up (SNS confirmations, /health).
    this.ready().catch((err) =>
      this.logger.error(`Building the processed-batch index failed, will retry: ${(err as Error).message}`),
    );
  }

  /**
   * Resolves once the index holds every batch that was in the bucket at start-up; endpoints wait
   * for it rather than answer with partial totals. A failed build is retried by the next caller.
   */
  async ready(): Promise<void> {
    this.building ??= this.refresh();
    try {
      await this.building;
    } catch (err) {
      this.building = undefined;
      throw err;
    }
  }

  /** A batch this instance just processed. */
  record(summaryKey: string, summary: BatchSummary, etag = ''): void {
    this.index.add(summaryKey, summary, etag);
    this.unsaved = true;
  }

  /** Lists processed/ and reads every summary not indexed yet. Concurrent calls share one run. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const started = Date.now();
    const before = this.index.size;
    // The first build starts from the saved index, so only summaries it does not know are read.
    const saved = this.savedLoaded ? new Map() : loadSavedIndex(await this.store.getText(SAVED_INDEX_KEY));
    this.savedLoaded = true;
    const pending: { key: string; etag: string }[] = [];
    let fromSaved = 0;
    for await (const info of this.store.list(PROCESSED_PREFIX)) {
      if (!info.key.endsWith(SUMMARY_SUFFIX)) continue;
      if (this.index.get(info.key)?.etag === info.etag && info.etag) continue;
      if (this.rejected.get(info.key) === info.etag) continue;
      const known = saved.get(info.key);
      if (known && known.etag === info.etag && info.etag) {
        this.index.addEntry(known);
        fromSaved++;
        continue;
      }
      pending.push({ key: info.key, etag: info.etag });
    }
    let next = 0;
    const worker = async () => {
      while (next < pending.length) {
        const { key, etag } = pending[next++];
        await this.load(key, etag);
      }
    };
    await Promise.all(Array.from({ length: READ_CONCURRENCY }, worker));
    if (pending.length > 0) this.unsaved = true;
    const added = this.index.size - before;
    if (added > 0 || before === 0) {
      this.logger.log(
        `Indexed ${added} processed batch(es) (${fromSaved} from ${SAVED_INDEX_KEY}, ${pending.length} summaries read) ` +
          `in ${Date.now() - started} ms; ${this.index.size} in all`,
      );
    }
    await this.save();
  }

  /** Saves the index for the next start-up; a failure only costs the next start-up more reads. */
  async save(): Promise<void> {
    if (!this.unsaved) return;
    this.unsaved = false;
    try {
      await this.store.put(SAVED_INDEX_KEY, JSON.stringify(saveIndex(this.index)), 'application/json');
    } catch (err) {
      this.unsaved = true;
      this.logger.warn(`Could not save ${SAVED_INDEX_KEY}: ${(err as Error).message}`);
    }
  }

  private async load(key: string, etag: string): Promise<void> {
    const summary = await this.readSummary(key, etag);
    if (summary) this.index.add(key, summary, etag);
  }

  private async readSummary(key: string, etag: string): Promise<BatchSummary | undefined> {
    const text = await this.store.getText(key);
    if (text === null) return undefined; // deleted between listing and reading
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      this.reject(key, etag, `not valid JSON (${(err as Error).message})`);
      return undefined;
    }
    const problem = summaryProblem(parsed);
    if (problem) {
      this.reject(key, etag, problem);
      return undefined;
    }
    const summary = parsed as BatchSummary;
    summary.output_key ??= key.slice(0, -SUMMARY_SUFFIX.length) + '.csv';
    return summary;
  }

  private reject(key: string, etag: string, why: string): void {
    this.rejected.set(key, etag);
    this.logger.warn(`Skipping malformed summary ${key}: ${why}`);
  }

  /** The n newest batches with their full summaries (read on demand for entries from a saved index). */
  private async newest(n: number): Promise<{ entry: IndexEntry; summary: BatchSummary }[]> {
    const out: { entry: IndexEntry; summary: BatchSummary }[] = [];
    for (const entry of this.index.newest(n)) {
      let summary = this.index.fullSummary(entry.summaryKey);
      if (!summary) {
        summary = await this.readSummary(entry.summaryKey, entry.etag);
        if (!summary) continue;
        this.index.setFull(entry.summaryKey, summary);
      }
      out.push({ entry, summary });
    }
    return out;
  }

  async summary(): Promise<
    | { files_processed: number; total_rows_scored: number; total_anomalies: number; overall_anomaly_rate: number; most_recent: BatchSummary[] }
    | { message: string }
  > {
    await this.ready();
    const { files, rows, anomalies } = this.index.totals();
    if (files === 0) return { message: 'No processed files yet.' };
    return {
      files_processed: files,
      total_rows_scored: rows,
      total_anomalies: anomalies,
      overall_anomaly_rate: rows > 0 ? Math.round((anomalies / rows) * 10000) / 10000 : 0,
      most_recent: (await this.newest(5)).map((n) => n.summary),
    };
  }

  async recentAnomalies(limit: number): Promise<RecentAnomalies> {
    await this.ready();
    const anomalies: RecentAnomalies['anomalies'] = [];
    for (const { summaryKey, outputKey, anomalies: count, etag } of this.index.newest(RECENT_FILES)) {
      if (anomalies.length >= limit) break;
      if (count === 0) continue;
      const rows = await this.anomalyRows(outputKey, `${summaryKey}@${etag}`);
      for (const row of rows) {
        if (anomalies.length >= limit) break;
        anomalies.push({ ...row, source_file: outputKey });
      }
    }
    return { count: anomalies.length, anomalies };
  }

  /** The newest `files` batches with their rows as series, oldest first (for charts). */
  async recentBatches(files: number): Promise<RecentBatch[]> {
    await this.ready();
    const out: RecentBatch[] = [];
    for (const { entry, summary } of await this.newest(files)) {
      const series = await this.cached(
        this.seriesCache,
        entry.outputKey,
        `${entry.summaryKey}@${entry.etag}`,
        (stream) => readScoredSeries(stream, SERIES_ROWS_PER_FILE),
        () => undefined,
      );
      if (series) out.push({ summary, series });
    }
    return out.reverse();
  }

  private async anomalyRows(outputKey: string, version: string): Promise<AnomalyRow[]> {
    return (await this.cached(this.rowCache, outputKey, version, (s) => readAnomalyRows(s, MAX_RECENT_LIMIT), () => [])) ?? [];
  }

  /** A rewritten scored file comes with a rewritten summary (new ETag), so cache by both. */
  private async cached<T>(
    cache: Map<string, T>,
    outputKey: string,
    version: string,
    read: (stream: import('node:stream').Readable) => Promise<T>,
    unreadable: () => T | undefined,
  ): Promise<T | undefined> {
    const cacheKey = `${outputKey}|${version}`;
    const hit = cache.get(cacheKey);
    if (hit) return hit;
    const stream = await this.store.getStream(outputKey);
    if (!stream) return undefined;
    let value: T | undefined;
    try {
      value = await read(stream);
    } catch (err) {
      // Storage failing mid-read is a 503 (and nothing is cached); a malformed file is skipped.
      if (err instanceof SourceStreamError) throw new StorageError('get', outputKey, err.cause);
      this.logger.warn(`Skipping unreadable scored file ${outputKey}: ${(err as Error).message}`);
      value = unreadable();
      if (value === undefined) return undefined;
    }
    cache.set(cacheKey, value);
    if (cache.size > CACHED_FILES) cache.delete(cache.keys().next().value!);
    return value;
  }
}
