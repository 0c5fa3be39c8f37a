import { parse } from 'csv-parse';
import { Readable } from 'node:stream';

export type CellValue = string | number | boolean | null;
export type AnomalyRow = Record<string, CellValue>;

/** Reading the file itself failed (connection reset, disk error): not the file's fault. */
export class SourceStreamError extends Error {
  override readonly name = 'SourceStreamError';
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** `source.pipe(parser)` does not forward the source's errors: without this, they are unhandled. */
function parseStream(source: Readable) {
  const parser = parse({ bom: true, relax_column_count: true, skip_empty_lines: true });
  source.once('error', (err) => parser.destroy(new SourceStreamError(err)));
  return source.pipe(parser);
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** A CSV cell as JSON would show it: numbers as numbers, True/False as booleans, empty as null. */
export function typedCell(raw: string): CellValue {
  if (raw === '') return null;
  if (NUMBER.test(raw)) return Number(raw);
  const lower = raw.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  return raw;
}

/**
 * Reads the rows whose `anomaly` column is true from a scored CSV stream, stopping after `max` of
 * them so a huge file is not read to its end for a page of results. Each row carries its 0-based
 * data row as `row` (what POST /feedback names).
 */
export async function readAnomalyRows(stream: Readable, max: number): Promise<AnomalyRow[]> {
  const parser = parseStream(stream);
  const rows: AnomalyRow[] = [];
  let header: string[] | undefined;
  let anomalyAt = -1;
  let index = -1;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!header) {
        header = record;
        anomalyAt = header.indexOf('anomaly');
        if (anomalyAt < 0) break; // not a scored file
        continue;
      }
      index++;
      if (typedCell(record[anomalyAt] ?? '') !== true) continue;
      const row: AnomalyRow = {};
      header.forEach((name, i) => (row[name] = typedCell(record[i] ?? '')));
      rows.push({ ...row, row: index });
      if (rows.length >= max) break;
    }
  } finally {
    stream.destroy();
  }
  return rows;
}

/** One scored file as series, for charts: per channel values and flags, row by row. */
export interface ScoredSeries {
  channels: string[];
  timestamps: (string | null)[];
  values: Record<string, (number | null)[]>;
  zscoreFlags: Record<string, boolean[]>;
  anomaly: boolean[];
  reasons: string[];
  /** True when the file had more rows than were read. */
  truncated: boolean;
}

/**
 * Reads up to `maxRows` rows of a scored CSV as series. Channels are the columns that have a
 * `<channel>_zscore` column beside them; the time axis is the first timestamp-like column.
 */
export async function readScoredSeries(stream: Readable, maxRows: number): Promise<ScoredSeries> {
  const parser = parseStream(stream);
  const series: ScoredSeries = { channels: [], timestamps: [], values: {}, zscoreFlags: {}, anomaly: [], reasons: [], truncated: false };
  let header: string[] | undefined;
  let cols: { name: string; value: number; flag: number }[] = [];
  let timeAt = -1;
  let anomalyAt = -1;
  let reasonsAt = -1;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!header) {
        header = record;
        cols = header
          .map((name, value) => ({ name, value, flag: header!.indexOf(`${name}_zscore_flag`) }))
          .filter((c) => header!.includes(`${c.name}_zscore`));
        series.channels = cols.map((c) => c.name);
        for (const c of cols) {
          series.values[c.name] = [];
          series.zscoreFlags[c.name] = [];
        }
        timeAt = header.findIndex((h) => /time|date|^ts$/i.test(h));
        anomalyAt = header.indexOf('anomaly');
        reasonsAt = header.indexOf('anomaly_reasons');
        continue;
      }
      if (series.anomaly.length >= maxRows) {
        series.truncated = true;
        break;
      }
      series.timestamps.push(timeAt >= 0 ? (record[timeAt] ?? null) : null);
      for (const c of cols) {
        const v = typedCell(record[c.value] ?? '');
        series.values[c.name].push(typeof v === 'number' ? v : null);
        series.zscoreFlags[c.name].push(c.flag >= 0 && typedCell(record[c.flag] ?? '') === true);
      }
      series.anomaly.push(anomalyAt >= 0 && typedCell(record[anomalyAt] ?? '') === true);
      series.reasons.push(reasonsAt >= 0 ? (record[reasonsAt] ?? '') : '');
    }
  } finally {
    stream.destroy();
  }
  return series;
}
