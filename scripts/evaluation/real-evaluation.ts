/**
 * The real development sets through the real pipeline, each series as a fresh service would see
 * it (./series-replay.ts), scored by each benchmark's own protocol:
 *
 * - NAB (`nab-dev/`): NAB's score for the three profiles, its threshold optimised over all files
 *   on `anomaly_score` (./nab-scorer.ts); pooled over the rows after NAB's probationary period,
 *   row precision and recall of the `anomaly` flag against the labelled windows and false
 *   positives per 1,000 rows outside them; the share flagged on the all-normal series
 *   (artificialNoAnomaly). Beside it, NAB's published detectors rescored on the same files.
 * - SKAB (`skab-dev/`): its protocol (the first 400 rows of each experiment learnt, the rest
 *   scored, counts pooled): F1 = TP / (TP + (FP + FN) / 2), FAR, MAR; and the share of normal
 *   rows flagged before and after each anomaly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BaselineStateOptions } from '../../src/baseline/baseline-state';
import { PipelineSettings } from '../../src/processing/batch-pipeline';
import { CostMatrix, loadNabProfiles, nabReport, NabFile, normalizedScore, readNabCsv } from './nab-scorer';
import { loadNab, loadSkab, NabSeries } from './real-data';
import { replaySeries, SeriesVerdicts } from './series-replay';

export interface RowCounts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface NabResult {
  files: number;
  windows: number;
  profiles: Record<string, { threshold: number; raw: number; normalized: number }>;
  /** NAB's published detectors, their per-file scores on these files summed and normalised the same way. */
  published: Record<string, Record<string, number>>;
  rows: RowCounts & { precision: number; recall: number; fpPer1000: number };
  /** Rows flagged on the all-normal series after the probationary period. */
  allNormal: { series: number; rows: number; flagged: number; share: number };
  perFile: { name: string; score: number; flagged: number; fp: number }[];
  seconds: number;
}

export interface SkabResult {
  experiments: number;
  rows: RowCounts;
  f1: number;
  far: number;
  mar: number;
  /** Normal rows flagged, before the anomaly and after it (the return to normal). */
  normalBefore: { rows: number; flagged: number; share: number };
  normalAfter: { rows: number; flagged: number; share: number };
  seconds: number;
}

const share = (a: number, b: number) => (b > 0 ? a / b : NaN);

function count(labels: Uint8Array, flags: Uint8Array, from: number, into: RowCounts): void {
  for (let r = from; r < labels.length; r++) {
    if (labels[r] && flags[r]) into.tp++;
    else if (!labels[r] && flags[r]) into.fp++;
    else if (labels[r]) into.fn++;
    else into.tn++;
  }
}

export interface RealRun {
  settings: PipelineSettings;
  baseline: Partial<BaselineStateOptions>;
  /** Rows per batch. */
  rows: number;
  progress?: (line: string) => void;
}

export async function evaluateNab(dir: string, run: RealRun): Promise<NabResult> {
  const { settings, baseline, rows, progress } = run;
  const started = performance.now();
  const series = loadNab(dir);
  const profiles = loadNabProfiles(path.join(dir, 'profiles.json'));
  const files: NabFile[] = [];
  const counts: RowCounts = { tp: 0, fp: 0, fn: 0, tn: 0 };
  const allNormal = { series: 0, rows: 0, flagged: 0, share: 0 };
  const verdicts = new Map<string, SeriesVerdicts>();
  for (const [i, s] of series.entries()) {
    const v = await replaySeries(s, settings, rows, baseline);
    verdicts.set(s.name, v);
    count(s.labels, v.anomaly, s.scoreFrom, counts);
    if (s.windows.length === 0) {
      allNormal.series++;
      for (let r = s.scoreFrom; r < s.rows.length; r++) {
        allNormal.rows++;
        allNormal.flagged += v.anomaly[r];
      }
    }
    files.push({ name: s.name, timestamps: s.timestamps, anomalyScores: v.anomalyScore, windows: s.windows });
    progress?.(`NAB ${i + 1}/${series.length} ${s.name}`);
  }
  allNormal.share = share(allNormal.flagged, allNormal.rows);
  const report = nabReport(files, profiles);
  const perFile = report.standard.files.map((f) => {
    const s = series.find((x) => x.name === f.name) as NabSeries;
    const v = verdicts.get(f.name)!;
    let flagged = 0;
    let fp = 0;
    for (let r = s.scoreFrom; r < s.rows.length; r++) {
      flagged += v.anomaly[r];
      if (v.anomaly[r] && !s.labels[r]) fp++;
    }
    return { name: f.name, score: f.score, flagged, fp };
  });
  return {
    files: series.length,
    windows: series.reduce((n, s) => n + s.windows.length, 0),
    profiles: Object.fromEntries(Object.entries(report).map(([name, p]) => [name, { threshold: p.threshold, raw: p.raw, normalized: p.normalized }])),
    published: publishedScores(dir, files, profiles),
    rows: {
      ...counts,
      precision: share(counts.tp, counts.tp + counts.fp),
      recall: share(counts.tp, counts.tp + counts.fn),
      fpPer1000: 1000 * share(counts.fp, counts.fp + counts.tn),
    },
    allNormal,
    perFile,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * `published/<detector>_standard_scores.csv` holds NAB's published per-file standard scores; summed
 * over the files present and normalised with this corpus's null and perfect scores they say how
 * each detector does on exactly these files.
 */
function publishedScores(dir: string, files: NabFile[], profiles: Record<string, CostMatrix>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  const published = path.join(dir, 'published');
  if (!fs.existsSync(published)) return out;
  const names = new Set(files.map((f) => f.name));
  for (const file of fs.readdirSync(published).filter((f) => f.endsWith('_standard_scores.csv')).sort()) {
    const rows = readNabCsv(path.join(published, file)).filter((r) => names.has(r.File));
    for (const profile of Object.keys(profiles)) {
      const mine = rows.filter((r) => r.Profile === profile);
      if (mine.length !== files.length) continue;
      const raw = mine.reduce((sum, r) => sum + Number(r.Score), 0);
      const detector = file.replace('_standard_scores.csv', '');
      (out[detector] ??= {})[profile] = normalizedScore(raw, files, profiles[profile]);
    }
  }
  return out;
}

export async function evaluateSkab(dir: string, run: RealRun): Promise<SkabResult> {
  const { settings, baseline, rows, progress } = run;
  const started = performance.now();
  const series = loadSkab(dir);
  const counts: RowCounts = { tp: 0, fp: 0, fn: 0, tn: 0 };
  const before = { rows: 0, flagged: 0, share: 0 };
  const after = { rows: 0, flagged: 0, share: 0 };
  for (const [i, s] of series.entries()) {
    const v = await replaySeries(s, settings, rows, baseline);
    count(s.labels, v.anomaly, s.scoreFrom, counts);
    const first = s.labels.indexOf(1);
    const last = s.labels.lastIndexOf(1);
    for (let r = s.scoreFrom; r < s.rows.length; r++) {
      if (s.labels[r]) continue;
      const side = first < 0 || r < first ? before : r > last ? after : undefined;
      if (!side) continue;
      side.rows++;
      side.flagged += v.anomaly[r];
    }
    progress?.(`SKAB ${i + 1}/${series.length} ${s.name}`);
  }
  before.share = share(before.flagged, before.rows);
  after.share = share(after.flagged, after.rows);
  return {
    experiments: series.length,
    rows: counts,
    f1: share(counts.tp, counts.tp + (counts.fp + counts.fn) / 2),
    far: share(counts.fp, counts.fp + counts.tn),
    mar: share(counts.fn, counts.fn + counts.tp),
    normalBefore: before,
    normalAfter: after,
    seconds: (performance.now() - started) / 1000,
  };
}
