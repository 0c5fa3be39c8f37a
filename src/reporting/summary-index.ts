import type { BatchSummary as WrittenSummary } from '../processing/batch-summary';

/**
 * An in-memory index of every batch summary in `processed/`, so the anomaly endpoints answer from
 * memory instead of re-reading every summary file per request (the reference's approach, which
 * grows linearly with the bucket). Plain TypeScript: no I/O here.
 */

/**
 * A `_summary.json` as the index reads it: the reference's fields (every summary has them, whoever
 * wrote it), the rest of ours optional.
 */
export type BatchSummary = Pick<
  WrittenSummary,
  'source_key' | 'output_key' | 'processed_at' | 'total_rows' | 'anomaly_count' | 'anomaly_rate'
> & {
  baseline_observation_counts?: Record<string, number>;
};

/** What the index keeps of every batch: a few numbers, so a year of batches stays small. */
export interface IndexEntry {
  summaryKey: string;
  outputKey: string;
  /** processed_at in ms since the epoch (0 when unparseable); sort key, ties broken by key. */
  at: number;
  rows: number;
  anomalies: number;
  /** ETag of the summary object, to tell a rewritten summary from a known one. */
  etag: string;
}

/** How many full summaries are kept in memory for `most_recent`; the rest keep only counts. */
const FULL_SUMMARIES_KEPT = 64;

export class SummaryIndex {
  private readonly entries = new Map<string, IndexEntry>();
  private readonly full = new Map<string, BatchSummary>();
  private totalRows = 0;
  private totalAnomalies = 0;
  /** The newest entries, newest first, computed once per change: reads far outnumber writes. */
  private newestCache?: IndexEntry[];

  get size(): number {
    return this.entries.size;
  }

  get(summaryKey: string): IndexEntry | undefined {
    return this.entries.get(summaryKey);
  }

  has(summaryKey: string): boolean {
    return this.entries.has(summaryKey);
  }

  /** Adds or replaces the summary stored under `summaryKey`. */
  add(summaryKey: string, summary: BatchSummary, etag = ''): void {
    this.addEntry(entryOf(summaryKey, summary, etag));
    this.setFull(summaryKey, summary);
  }

  /** Adds an entry whose full summary is not at hand (e.g. from a saved index). */
  addEntry(entry: IndexEntry): void {
    const previous = this.entries.get(entry.summaryKey);
    if (previous) {
      this.totalRows -= previous.rows;
      this.totalAnomalies -= previous.anomalies;
      this.full.delete(entry.summaryKey);
    }
    this.entries.set(entry.summaryKey, entry);
    this.totalRows += entry.rows;
    this.totalAnomalies += entry.anomalies;
    this.newestCache = undefined;
  }

  fullSummary(summaryKey: string): BatchSummary | undefined {
    return this.full.get(summaryKey);
  }

  setFull(summaryKey: string, summary: BatchSummary): void {
    this.full.set(summaryKey, summary);
    if (this.full.size > FULL_SUMMARIES_KEPT * 2) this.trimFull();
  }

  totals(): { files: number; rows: number; anomalies: number } {
    return { files: this.entries.size, rows: this.totalRows, anomalies: this.totalAnomalies };
  }

  /** The n newest entries (n <= 64), newest first (by processed_at, then key). */
  newest(n: number): IndexEntry[] {
    this.newestCache ??= this.topEntries(FULL_SUMMARIES_KEPT);
    return this.newestCache.slice(0, n);
  }

  all(): IterableIterator<IndexEntry> {
    return this.entries.values();
  }

  /** Keep full summaries only for the newest entries: older ones are never shown in most_recent. */
  private trimFull(): void {
    const keep = new Set(this.newest(FULL_SUMMARIES_KEPT).map((e) => e.summaryKey));
    for (const key of this.full.keys()) if (!keep.has(key)) this.full.delete(key);
  }

  private topEntries(n: number): IndexEntry[] {
    // A bounded selection instead of sorting every entry: n is small, the index large.
    const top: IndexEntry[] = [];
    for (const e of this.entries.values()) {
      if (top.length < n) {
        top.push(e);
        if (top.length === n) top.sort(newestFirst);
      } else if (newestFirst(e, top[n - 1]) < 0) {
        let i = n - 1;
        while (i > 0 && newestFirst(e, top[i - 1]) < 0) {
          top[i] = top[i - 1];
          i--;
        }
        top[i] = e;
      }
    }
    return top.sort(newestFirst);
  }
}

export function entryOf(summaryKey: string, summary: BatchSummary, etag: string): IndexEntry {
  const at = Date.parse(summary.processed_at);
  return {
    summaryKey,
    outputKey: summary.output_key,
    at: Number.isFinite(at) ? at : 0,
    rows: summary.total_rows,
    anomalies: summary.anomaly_count,
    etag,
  };
}

function newestFirst(a: IndexEntry, b: IndexEntry): number {
  return b.at - a.at || (a.summaryKey < b.summaryKey ? 1 : a.summaryKey > b.summaryKey ? -1 : 0);
}

/** Checks a parsed `_summary.json`; returns why it cannot be indexed, or null when it can. */
export function summaryProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const s = value as Record<string, unknown>;
  for (const field of ['total_rows', 'anomaly_count'] as const) {
    if (typeof s[field] !== 'number' || !Number.isFinite(s[field]) || (s[field] as number) < 0) {
      return `"${field}" must be a non-negative number`;
    }
  }
  if (typeof s.processed_at !== 'string' || !Number.isFinite(Date.parse(s.processed_at))) {
    return '"processed_at" must be an ISO-8601 date';
  }
  if (typeof s.output_key !== 'string' && s.output_key !== undefined) return '"output_key" must be a string';
  return null;
}

/** A saved index: lets start-up skip reading every summary whose ETag it already knows. */
export interface SavedIndex {
  version: 1;
  saved_at: string;
  entries: [summaryKey: string, outputKey: string, at: number, rows: number, anomalies: number, etag: string][];
}

export function saveIndex(index: SummaryIndex): SavedIndex {
  const entries: SavedIndex['entries'] = [];
  for (const e of index.all()) entries.push([e.summaryKey, e.outputKey, e.at, e.rows, e.anomalies, e.etag]);
  return { version: 1, saved_at: new Date().toISOString(), entries };
}

/** Reads a saved index; anything unexpected gives an empty map (the index is only a cache). */
export function loadSavedIndex(text: string | null): Map<string, IndexEntry> {
  const out = new Map<string, IndexEntry>();
  if (!text) return out;
  try {
    const saved = JSON.parse(text) as SavedIndex;
    if (saved?.version !== 1 || !Array.isArray(saved.entries)) return out;
    for (const e of saved.entries) {
      if (!Array.isArray(e) || e.length !== 6 || typeof e[0] !== 'string' || typeof e[5] !== 'string') continue;
      const [summaryKey, outputKey, at, rows, anomalies, etag] = e;
      if (![at, rows, anomalies].every((n) => typeof n === 'number' && Number.isFinite(n))) continue;
      out.set(summaryKey, { summaryKey, outputKey, at, rows, anomalies, etag });
    }
  } catch {
    return new Map();
  }
  return out;
}
