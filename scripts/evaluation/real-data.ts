/**
 * The real labelled development sets, read from a directory outside the repository (their licences
 * keep them there): the Numenta Anomaly Benchmark (`nab-dev/`: `data/<category>/<name>.csv`,
 * `combined_windows.json`) and the SKAB valve experiments (`skab-dev/valve1/<n>.csv`, `;`-separated,
 * label columns `anomaly` and `changepoint`). Each series becomes the rows the service would be
 * given (label columns dropped, commas) and the labels the scorers need.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';

export interface LabelledSeries {
  /** `realTweets/Twitter_volume_AMZN.csv`, `valve1/0.csv`. */
  name: string;
  header: string[];
  /** Data rows as text cells, label columns removed. */
  rows: string[][];
  /** 1 where the row is labelled anomalous (inside a NAB window, `anomaly` = 1 in SKAB). */
  labels: Uint8Array;
  /** Rows before this index are for learning only: replayed, not counted. */
  scoreFrom: number;
}

export interface NabSeries extends LabelledSeries {
  timestamps: string[];
  /** NAB's labelled windows, `[start, end]` timestamps, bounds included. */
  windows: [string, string][];
}

/** SKAB's protocol: the first 400 rows of each experiment are for learning, the rest is scored. */
export const SKAB_LEARNING_ROWS = 400;
/** NAB's probationary share: detections in the first 15 % of a file are not scored. */
export const NAB_PROBATION_PERCENT = 0.15;

/** NAB's probationary period in rows (nab/sweeper.py getProbationPeriod). */
export function nabProbationRows(length: number, percent = NAB_PROBATION_PERCENT): number {
  return Math.min(Math.floor(percent * length), Math.floor(percent * 5000));
}

function readCsv(file: string, delimiter: string): string[][] {
  return parse(fs.readFileSync(file, 'utf8'), { delimiter, skip_empty_lines: true, relax_column_count: false }) as string[][];
}

/** Milliseconds since the epoch of a NAB timestamp (`2014-04-10 07:15:00[.000000]`, UTC). */
export function nabTime(ts: string): number {
  const t = Date.parse(ts.trim().replace(' ', 'T').replace(/(\.\d{3})\d*$/, '$1') + 'Z');
  if (Number.isNaN(t)) throw new Error(`not a NAB timestamp: ${JSON.stringify(ts)}`);
  return t;
}

export function loadNab(dir: string, only?: (name: string) => boolean): NabSeries[] {
  const windows = JSON.parse(fs.readFileSync(path.join(dir, 'combined_windows.json'), 'utf8')) as Record<string, [string, string][]>;
  const out: NabSeries[] = [];
  for (const name of Object.keys(windows).sort()) {
    if (only && !only(name)) continue;
    const file = path.join(dir, 'data', name);
    if (!fs.existsSync(file)) continue;
    const [header, ...rows] = readCsv(file, ',');
    const tsAt = header.indexOf('timestamp');
    if (tsAt < 0) throw new Error(`${file}: no timestamp column`);
    const timestamps = rows.map((r) => r[tsAt]);
    const times = timestamps.map(nabTime);
    const spans = windows[name].map(([a, b]) => [nabTime(a), nabTime(b)] as const);
    const labels = Uint8Array.from(times, (t) => (spans.some(([a, b]) => t >= a && t <= b) ? 1 : 0));
    out.push({ name, header, rows, labels, scoreFrom: nabProbationRows(rows.length), timestamps, windows: windows[name] });
  }
  if (out.length === 0) throw new Error(`no NAB series found under ${dir}`);
  return out;
}

export function loadSkab(dir: string): LabelledSeries[] {
  const out: LabelledSeries[] = [];
  for (const group of fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    const files = fs.readdirSync(path.join(dir, group)).filter((f) => f.endsWith('.csv'));
    files.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    for (const f of files) {
      const [header, ...rows] = readCsv(path.join(dir, group, f), ';');
      const labelAt = header.indexOf('anomaly');
      if (labelAt < 0) throw new Error(`${group}/${f}: no anomaly column`);
      const keep = header.map((h, i) => i).filter((i) => header[i] !== 'anomaly' && header[i] !== 'changepoint');
      out.push({
        name: `${group}/${f}`,
        header: keep.map((i) => header[i]),
        rows: rows.map((r) => keep.map((i) => r[i])),
        labels: Uint8Array.from(rows, (r) => (Number(r[labelAt]) > 0 ? 1 : 0)),
        scoreFrom: SKAB_LEARNING_ROWS,
      });
    }
  }
  if (out.length === 0) throw new Error(`no SKAB experiments found under ${dir}`);
  return out;
}

/** The rows `[from, to)` of a series as the CSV a producer would upload (header included). */
export function csvOf(series: LabelledSeries, from: number, to: number): string {
  const cell = (c: string) => (/[",\n\r]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c);
  const lines = [series.header.map(cell).join(',')];
  for (let r = from; r < to; r++) lines.push(series.rows[r].map(cell).join(','));
  return lines.join('\n') + '\n';
}
