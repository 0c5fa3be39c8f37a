/**
 * Numenta Anomaly Benchmark (NAB) scoring, ported from NAB's own code (numenta/NAB at ea702d75:
 * nab/sweeper.py, nab/optimizer.py, nab/scorer.py, nab/runner.py `normalize`, nab/labeler.py).
 *
 * - Per row, `Sweeper.calcSweepScore`: inside a window a detection is worth
 *   tpWeight * scaledSigmoid(position) / scaledSigmoid(-1) (so exactly tpWeight at the window's
 *   first row, falling towards 0 at its last); outside, fpWeight * scaledSigmoid(distance past the
 *   previous window's end / (that window's width - 1)), or -fpWeight before any window. The first
 *   min(floor(p * rows), p * 5000) rows (p = 0.15) are probationary and never scored.
 * - Per threshold, `Sweeper.calcScoreByThreshold`: score = sum of FP row scores + per window the
 *   best (= earliest) detection's score, or -fnWeight when nothing in it fired. TP/TN/FP/FN count
 *   scorable rows, not windows.
 * - `optimize`: pool the rows of every file, sort by anomaly score descending and walk down; each
 *   distinct score is a candidate threshold, so this is the exact best shared threshold. NAB's
 *   optimizer.py has done this since 2019; the published thresholds (e.g. 0.9984497070312507) come
 *   from the earlier `twiddle` local search, which can stop short of the best.
 * - `normalize`: 100 * (raw - null) / (perfect - null).
 */
import { readFileSync } from 'node:fs';

export const PROBATION_PERCENT = 0.15;

export interface CostMatrix {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
  /** Present in NAB's profiles but unused by its scorer (TNs score 0). */
  tnWeight?: number;
}

/** `YYYY-MM-DD HH:MM:SS[.ffffff]`, ISO 8601, or UTC milliseconds. */
export type Timestamp = string | number;
export type NabWindow = readonly [Timestamp, Timestamp];

export interface NabFile {
  name: string;
  timestamps: ArrayLike<Timestamp>;
  anomalyScores: ArrayLike<number>;
  windows: readonly NabWindow[];
}

/** NAB's `ThresholdScore`: the row `Sweeper.scoreDataSet` returns as bestRow. */
export interface ThresholdScore {
  threshold: number;
  score: number;
  tp: number;
  tn: number;
  fp: number;
  fn: number;
  /** Scorable rows (tp + tn + fp + fn): the file length minus the probationary period. */
  total: number;
}

const TS = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Naive timestamps are UTC, as NAB compares them without a zone. */
export function parseNabTimestamp(t: Timestamp): number {
  if (typeof t === 'number') return t;
  const m = TS.exec(t.trim());
  if (!m) throw new RangeError(`not a NAB timestamp: ${JSON.stringify(t)}`);
  const [, y, mo, d, h, mi, s = '0', frac, zone] = m;
  let ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s) + (frac ? Number(frac) * 1000 : 0);
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return ms;
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** -1 at a window's left edge gives 0.98661, 0 its right edge, > 0 increasingly far past it. */
export function scaledSigmoid(relativePosition: number): number {
  return relativePosition > 3 ? -1 : 2 * sigmoid(-5 * relativePosition) - 1;
}

/** `getProbationPeriod` / `Sweeper._getProbationaryLength`: rows with index < this are ignored. */
export function probationaryLength(rows: number, probationPercent = PROBATION_PERCENT): number {
  return Math.min(Math.floor(probationPercent * rows), probationPercent * 5000);
}

/** Window of a row: >= 0 its window's ordinal in the file, or one of these. */
const OUTSIDE = -1;
const PROBATIONARY = -2;

interface FileSweep {
  sweepScore: Float64Array;
  window: Int32Array;
  /** Windows with at least one scorable row: only they enter the score (as -fnWeight if missed). */
  scoredWindows: number[];
}

/**
 * `Sweeper.calcSweepScore`, kept as the same state machine (enter a window on reaching its start
 * timestamp, leave it after its end timestamp) so edge cases behave as NAB's do. Like NAB's
 * labeler, every window bound must be a timestamp occurring exactly once in the file.
 */
export function sweepFile(
  timestamps: ArrayLike<Timestamp>,
  windows: readonly NabWindow[],
  cost: CostMatrix,
  probationPercent = PROBATION_PERCENT,
  fileName = 'file',
): FileSweep {
  const n = timestamps.length;
  const times = new Float64Array(n);
  const firstIndex = new Map<number, number>();
  const occurrences = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const t = parseNabTimestamp(timestamps[i]);
    times[i] = t;
    if (!firstIndex.has(t)) firstIndex.set(t, i);
    occurrences.set(t, (occurrences.get(t) ?? 0) + 1);
  }
  const limits = windows.map(([a, b]) => {
    const pair = [parseNabTimestamp(a), parseNabTimestamp(b)] as const;
    for (const [t, raw] of [
      [pair[0], a],
      [pair[1], b],
    ] as const) {
      if (occurrences.get(t) !== 1) {
        throw new RangeError(`${fileName}: window bound ${String(raw)} must occur exactly once in the file's timestamps`);
      }
    }
    return pair;
  });

  const maxTP = scaledSigmoid(-1);
  const probation = probationaryLength(n, probationPercent);
  const sweepScore = new Float64Array(n);
  const window = new Int32Array(n);
  const scored = new Set<number>();

  let next = 0;
  let cur = -1;
  let curRight = 0;
  let curWidth = 0;
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < n; i++) {
    if (next < limits.length && times[i] === limits[next][0]) {
      cur = next++;
      curRight = firstIndex.get(limits[cur][1])!;
      curWidth = curRight - firstIndex.get(limits[cur][0])! + 1;
    }
    if (cur >= 0) {
      sweepScore[i] = (scaledSigmoid(-(curRight - i + 1) / curWidth) * cost.tpWeight) / maxTP;
    } else if (prevRight < 0) {
      sweepScore[i] = -cost.fpWeight;
    } else {
      // A one-row window makes NAB divide by zero; the limit (-1) is what it would tend to.
      sweepScore[i] = scaledSigmoid(Math.abs(prevRight - i) / (prevWidth - 1)) * cost.fpWeight;
    }
    if (i < probation) window[i] = PROBATIONARY;
    else {
      window[i] = cur >= 0 ? cur : OUTSIDE;
      if (cur >= 0) scored.add(cur);
    }
    if (cur >= 0 && times[i] === limits[cur][1]) {
      prevRight = i;
      prevWidth = curWidth;
      cur = -1;
    }
  }
  return { sweepScore, window, scoredWindows: [...scored].sort((a, b) => a - b) };
}

function checkScore(v: number, file: string, row: number): number {
  if (Number.isNaN(v)) throw new RangeError(`${file}: anomaly score at row ${row} is NaN`);
  return v;
}

/**
 * `Sweeper.scoreDataSet`'s bestRow at `threshold`. NAB picks the sweep row whose threshold equals
 * `threshold`, else the one just above it; both amount to "a row is a detection when its score >=
 * threshold", which is what is computed here in one pass. (Where NAB finds no row, a threshold
 * above 1.1 or below every score, it crashes; this returns what the rule gives.)
 */
export function scoreFile(
  timestamps: ArrayLike<Timestamp>,
  anomalyScores: ArrayLike<number>,
  windows: readonly NabWindow[],
  threshold: number,
  cost: CostMatrix,
  probationPercent = PROBATION_PERCENT,
  fileName = 'file',
): ThresholdScore {
  if (timestamps.length !== anomalyScores.length) {
    throw new RangeError(`${fileName}: ${timestamps.length} timestamps but ${anomalyScores.length} anomaly scores`);
  }
  const sweep = sweepFile(timestamps, windows, cost, probationPercent, fileName);
  const best = new Float64Array(windows.length).fill(-cost.fnWeight);
  let fpScore = 0;
  let tp = 0;
  let tn = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < timestamps.length; i++) {
    const w = sweep.window[i];
    if (w === PROBATIONARY) continue;
    const detected = checkScore(anomalyScores[i], fileName, i) >= threshold;
    if (w === OUTSIDE) {
      if (detected) {
        fp++;
        fpScore += sweep.sweepScore[i];
      } else tn++;
    } else if (detected) {
      tp++;
      best[w] = Math.max(best[w], sweep.sweepScore[i]);
    } else fn++;
  }
  let score = fpScore;
  for (const w of sweep.scoredWindows) score += best[w];
  return { threshold, score, tp, tn, fp, fn, total: tp + tn + fp + fn };
}

/**
 * `Sweeper.calcScoreByThreshold` over the pooled rows of `files`: one ThresholdScore per distinct
 * anomaly score, descending, after a first "nothing detected" row at 1.1 (NAB's sentinel; it
 * assumes scores in [0, 1], so larger scores move it above the maximum). `visit` sees each row in
 * turn, so the optimiser need not keep them all.
 */
function walkThresholds(
  files: readonly NabFile[],
  cost: CostMatrix,
  probationPercent: number,
  visit: (row: ThresholdScore) => void,
): void {
  let rows = 0;
  const sweeps = files.map((f) => {
    if (f.timestamps.length !== f.anomalyScores.length) {
      throw new RangeError(`${f.name}: ${f.timestamps.length} timestamps but ${f.anomalyScores.length} anomaly scores`);
    }
    const s = sweepFile(f.timestamps, f.windows, cost, probationPercent, f.name);
    for (let i = 0; i < s.window.length; i++) if (s.window[i] !== PROBATIONARY) rows++;
    return s;
  });

  // Pooled scorable rows; windows get corpus-wide ids (NAB names them "<file>|<start>").
  const anomaly = new Float64Array(rows);
  const sweepScore = new Float64Array(rows);
  const windowId = new Int32Array(rows);
  let windowCount = 0;
  let windowSum = 0;
  let k = 0;
  let tn = 0;
  let fn = 0;
  files.forEach((f, fi) => {
    const s = sweeps[fi];
    for (let i = 0; i < s.window.length; i++) {
      const w = s.window[i];
      if (w === PROBATIONARY) continue;
      anomaly[k] = checkScore(f.anomalyScores[i], f.name, i);
      sweepScore[k] = s.sweepScore[i];
      windowId[k] = w === OUTSIDE ? OUTSIDE : windowCount + w;
      if (w === OUTSIDE) tn++;
      else fn++;
      k++;
    }
    windowSum -= cost.fnWeight * s.scoredWindows.length;
    windowCount += f.windows.length;
  });
  const best = new Float64Array(windowCount).fill(-cost.fnWeight);

  // Ties keep file/row order, as Python's stable sort does.
  const order = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  order.sort((a, b) => anomaly[b] - anomaly[a] || a - b);

  let maxScore = -Infinity;
  for (let i = 0; i < rows; i++) maxScore = Math.max(maxScore, anomaly[i]);
  let threshold = maxScore < 1.1 ? 1.1 : maxScore + 1;
  let fpScore = 0;
  let tp = 0;
  let fp = 0;
  const emit = () => visit({ threshold, score: fpScore + windowSum, tp, tn, fp, fn, total: tp + tn + fp + fn });
  for (let j = 0; j < rows; j++) {
    const r = order[j];
    if (anomaly[r] !== threshold) {
      emit();
      threshold = anomaly[r];
    }
    const w = windowId[r];
    if (w === OUTSIDE) {
      fp++;
      tn--;
      fpScore += sweepScore[r];
    } else {
      tp++;
      fn--;
      // NAB re-sums all parts per threshold; the running sum differs only by rounding (~1e-13).
      if (sweepScore[r] > best[w]) {
        windowSum += sweepScore[r] - best[w];
        best[w] = sweepScore[r];
      }
    }
  }
  emit();
}

/** Every candidate threshold's corpus score, highest threshold first (NAB's scoresByThreshold). */
export function scoresByThreshold(
  files: readonly NabFile[],
  cost: CostMatrix,
  probationPercent = PROBATION_PERCENT,
): ThresholdScore[] {
  const out: ThresholdScore[] = [];
  walkThresholds(files, cost, probationPercent, (row) => out.push(row));
  return out;
}

/**
 * `optimizer.optimizeThreshold`: the one threshold shared by all files that maximises their summed
 * score. Among equal scores the highest threshold wins, as NAB's stable sort by score leaves it first.
 */
export function optimizeThreshold(
  files: readonly NabFile[],
  cost: CostMatrix,
  probationPercent = PROBATION_PERCENT,
): ThresholdScore {
  let best: ThresholdScore | undefined;
  walkThresholds(files, cost, probationPercent, (row) => {
    if (!best || row.score > best.score) best = row;
  });
  return best!;
}

/**
 * NAB's baseline is the null detector's total: it outputs a constant 0.5, is optimised and scored
 * like any detector, and the optimiser keeps "no detection" unless flagging everything scores
 * better. So it is the optimiser's result on constant scores.
 */
export function nullScore(files: readonly NabFile[], cost: CostMatrix, probationPercent = PROBATION_PERCENT): number {
  const constant = files.map((f) => ({ ...f, anomalyScores: new Float64Array(f.timestamps.length).fill(0.5) }));
  return optimizeThreshold(constant, cost, probationPercent).score;
}

/**
 * NAB's "perfect" is tpWeight per labelled window (`tpCount` counts every window in the label
 * file, even one that a probationary period would make unreachable).
 */
export function perfectScore(files: readonly NabFile[], cost: CostMatrix): number {
  return cost.tpWeight * files.reduce((sum, f) => sum + f.windows.length, 0);
}

/** `Runner.normalize`: 100 * (raw - null) / (perfect - null). */
export function normalizedScore(
  raw: number,
  files: readonly NabFile[],
  cost: CostMatrix,
  probationPercent = PROBATION_PERCENT,
): number {
  const base = nullScore(files, cost, probationPercent);
  return (100 * (raw - base)) / (perfectScore(files, cost) - base);
}

export interface ProfileReport {
  threshold: number;
  /** Sum of the per-file scores at `threshold` (NAB's "Totals" row). */
  raw: number;
  normalized: number;
  null: number;
  perfect: number;
  files: Array<ThresholdScore & { name: string }>;
}

/** Runner's optimize + score + normalize for each profile. */
export function nabReport(
  files: readonly NabFile[],
  profiles: Record<string, CostMatrix | { CostMatrix: CostMatrix }>,
  probationPercent = PROBATION_PERCENT,
): Record<string, ProfileReport> {
  const report: Record<string, ProfileReport> = {};
  for (const [profile, entry] of Object.entries(profiles)) {
    const cost = 'CostMatrix' in entry ? entry.CostMatrix : entry;
    const { threshold } = optimizeThreshold(files, cost, probationPercent);
    const perFile = files.map((f) => ({
      name: f.name,
      ...scoreFile(f.timestamps, f.anomalyScores, f.windows, threshold, cost, probationPercent, f.name),
    }));
    const raw = perFile.reduce((sum, r) => sum + r.score, 0);
    const base = nullScore(files, cost, probationPercent);
    const perfect = perfectScore(files, cost);
    report[profile] = { threshold, raw, normalized: (100 * (raw - base)) / (perfect - base), null: base, perfect, files: perFile };
  }
  return report;
}

/** NAB's CSVs (data, results, scores) have a header row and no quoted fields. */
export function readNabCsv(path: string): Array<Record<string, string>> {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  const header = lines[0].split(',');
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
  });
}

/** `labels/combined_windows.json`: `{ "<category>/<name>.csv": [[start, end], ...] }`. */
export function loadNabWindows(path: string): Record<string, Array<[string, string]>> {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** `config/profiles.json`: `{ "<profile>": { "CostMatrix": {...} } }`. */
export function loadNabProfiles(path: string): Record<string, CostMatrix> {
  const raw: Record<string, { CostMatrix: CostMatrix }> = JSON.parse(readFileSync(path, 'utf8'));
  return Object.fromEntries(Object.entries(raw).map(([name, p]) => [name, p.CostMatrix]));
}

/** A detector's results file (`timestamp,value,anomaly_score,...`) as a NabFile. */
export function loadNabResults(path: string, name: string, windows: readonly NabWindow[]): NabFile {
  const rows = readNabCsv(path);
  return {
    name,
    timestamps: rows.map((r) => r.timestamp),
    anomalyScores: Float64Array.from(rows, (r) => (r.anomaly_score ? Number(r.anomaly_score) : NaN)),
    windows,
  };
}
