/**
 * An in-memory index of every batch summary in `processed/`, so the anomaly endpoints answer from
 * memory instead of re-reading every summary file per request (the reference's approach, which
 * grows linearly with the bucket). Plain TypeScript: no I/O here.
 */

/** The fields of a `_summary.json` the index needs; the reference app writes all of them. */
export interface BatchSummary {
  source_key: string;
  output_key: string;
  processed_at: string;
  total_rows: number;
  anomaly_count: number;
  anomaly_rate: number;
  baseline_observation_counts?: Record<string, number>;
  [extra: string]: unknown;
}

interface Entry {
  summaryKey: string;
  outputKey: string;
  /** Sort key: processed_at in ms, ties broken by key. */
  at: number;
  rows: number;
  anomalies: number;
}

/** How many full summaries are kept in memory for `most_recent`; the rest keep only counts. */
const FULL_SUMMARIES_KEPT = 64;

export class SummaryIndex {
  private readonly entries = new Map<string, Entry>();
  private readonly full = new Map<string, BatchSummary>();
  private totalRows = 0;
  private totalAnomalies = 0;

  get size(): number {
    return this.entries.size;
  }

  has(summaryKey: string): boolean {
    return this.entries.has(summaryKey);
  }

  /** Adds or replaces the summary stored under `summaryKey`. */
  add(summaryKey: string, summary: BatchSummary): void {
    const previous = this.entries.get(summaryKey);
    if (previous) {
      this.totalRows -= previous.rows;
      this.totalAnomalies -= previous.anomalies;
    }
    const at = Date.parse(summary.processed_at);
    const entry: Entry = {
      summaryKey,
      outputKey: summary.output_key,
      at: Number.isFinite(at) ? at : 0,
      rows: summary.total_rows,
      anomalies: summary.anomaly_count,
    };
    this.entries.set(summaryKey, entry);
    this.totalRows += entry.rows;
    this.totalAnomalies += entry.anomalies;
    this.full.set(summaryKey, summary);
    if (this.full.size > FULL_SUMMARIES_KEPT * 2) this.trimFull();
  }

  totals(): { files: number; rows: number; anomalies: number } {
    return { files: this.entries.size, rows: this.totalRows, anomalies: this.totalAnomalies };
  }

  /** The n newest entries, newest first (by processed_at, then key). */
  newest(n: number): { summaryKey: string; outputKey: string; summary?: BatchSummary }[] {
    return this.topEntries(n).map((e) => ({ summaryKey: e.summaryKey, outputKey: e.outputKey, summary: this.full.get(e.summaryKey) }));
  }

  /** Keep full summaries only for the newest entries: older ones are never shown in most_recent. */
  private trimFull(): void {
    const keep = new Set(this.topEntries(FULL_SUMMARIES_KEPT).map((e) => e.summaryKey));
    for (const key of this.full.keys()) if (!keep.has(key)) this.full.delete(key);
  }

  private topEntries(n: number): Entry[] {
    // A bounded selection instead of sorting every entry: n is small (5 or 10), the index large.
    const top: Entry[] = [];
    for (const e of this.entries.values()) {
      if (top.length < n) {
        top.push(e);
        top.sort(newestFirst);
      } else if (newestFirst(e, top[n - 1]) < 0) {
        top[n - 1] = e;
        top.sort(newestFirst);
      }
    }
    return top;
  }
}

function newestFirst(a: Entry, b: Entry): number {
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
