/**
 * Replays one seeded stream through the detector and the baseline fold, and counts row-level hits.
 */
import { BaselineState } from '../../src/baseline/baseline-state';
import { inferChannels, parseNumber } from '../../src/detection/channel-inference';
import { DetectionSettings } from '../../src/detection/detection.types';
import { createDetector, IsolationRule, SampleRow } from '../../src/detection/detector';
import { ForestModelCache } from '../../src/detection/forest-model';
import { createRng } from '../../src/detection/seeded-random';
import { BatchProfile, generateBatch, LEVEL_SHIFT_AT } from '../../src/producer/batch-generator';
import { foldBatch } from './fold';

export interface StreamSpec {
  name: string;
  profile: BatchProfile;
  description: string;
}

export const STREAMS: readonly StreamSpec[] = [
  { name: 'reference', profile: 'reference', description: "the reference producer's distribution" },
  { name: 'drift', profile: 'drift', description: 'channel means drift 0.01 std per batch (2 std over the stream)' },
  { name: 'quiet-fifth', profile: 'quiet-fifth', description: 'every fifth batch has no anomaly' },
  { name: 'level-shift', profile: 'level-shift', description: `pressure mean +6 std from batch ${LEVEL_SHIFT_AT} on` },
  { name: 'server', profile: 'server', description: 'skewed, bounded, discrete, near-constant server metrics with bursts' },
];

export interface StreamOptions {
  batches: number;
  rows: number;
  seed: number;
  settings: DetectionSettings;
  isolation: IsolationRule;
  halfLife?: number;
}

export interface StreamResult {
  stream: string;
  isolation: IsolationRule;
  batches: number;
  rows: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  precision: number;
  recall: number;
  f1: number;
  /** False positives / rows without an injected anomaly, whole stream. */
  fpr: number;
  /** Flagged rows / rows of batches with no injected anomaly (NaN when the stream has none). */
  fprAllNormalBatches: number;
  allNormalBatches: number;
  /** Anomalous rows whose isolation flag was also set. */
  isolationFlagged: number;
  /** Level shift: batches after the shift with more than 2 false positives, and the last of them (relative). */
  shiftFloodBatches?: number;
  shiftLastFloodBatch?: number;
  /** Level shift: F1 and FPR without the batches from the shift to the last flood batch (the re-learning time). */
  f1AfterRelearn?: number;
  fprAfterRelearn?: number;
  /** Batches that refitted the forest; their median and the others' median scoring time (ms). */
  refits: number;
  medianScoreMs: number;
}

const START = Date.UTC(2026, 1, 24, 0, 0, 0);

export function runStream(spec: StreamSpec, options: StreamOptions): StreamResult {
  const rng = createRng(options.seed);
  const state = BaselineState.empty({ minCount: options.settings.minCount, includeAnomalies: false, halfLife: options.halfLife });
  const cache = new ForestModelCache();
  let channels: string[] | undefined;
  let indices: number[] = [];
  let tp = 0, fp = 0, fn = 0, normalRows = 0, quietRows = 0, quietFlags = 0, quietBatches = 0, isolationFlagged = 0, refits = 0;
  let floodBatches = 0, lastFlood = -1;
  const times: number[] = [];
  const perBatch: { tp: number; fp: number; fn: number; normal: number }[] = [];
  let lastModelKey: string | undefined;

  for (let b = 0; b < options.batches; b++) {
    const { csv, truth } = generateBatch({
      rows: options.rows,
      start: new Date(START + b * options.rows * 60_000),
      rng,
      profile: spec.profile,
      batchIndex: b,
    });
    const lines = csv.trimEnd().split('\n').map((l) => l.split(','));
    const header = lines[0];
    const body = lines.slice(1);
    if (!channels) {
      const inference = inferChannels(header, body.slice(0, 200));
      channels = inference.channels;
      indices = inference.indices;
    }
    const n = channels.length;
    const values = new Float64Array(body.length * n);
    body.forEach((cells, r) => indices.forEach((i, c) => (values[r * n + c] = parseNumber(cells[i]))));
    const sample: SampleRow[] = body.map((_, r) => ({ values: values.subarray(r * n, (r + 1) * n) }));

    const t0 = performance.now();
    const detector = createDetector(state.snapshot(), channels, options.settings, { cache, coldStartSample: sample, isolation: options.isolation });
    const channelAnomalous = new Int8Array(body.length * n);
    const anomaly = new Uint8Array(body.length);
    detector.scoreBatch(values, body.length, undefined, (r, s) => {
      anomaly[r] = s.anomaly ? 1 : 0;
      channelAnomalous.set(s.channelAnomalous, r * n);
      if (s.anomaly && s.ifFlag) isolationFlagged++;
    });
    const dt = performance.now() - t0;
    const key = detector.model?.key;
    if (key !== undefined && key !== lastModelKey) refits++;
    else times.push(dt);
    lastModelKey = key;

    const positive = new Uint8Array(body.length);
    for (const t of truth) positive[t.row] = 1;
    const here = { tp: 0, fp: 0, fn: 0, normal: 0 };
    for (let r = 0; r < body.length; r++) {
      if (positive[r] && anomaly[r]) here.tp++;
      else if (positive[r]) here.fn++;
      else {
        here.normal++;
        if (anomaly[r]) here.fp++;
      }
    }
    perBatch.push(here);
    tp += here.tp;
    fp += here.fp;
    fn += here.fn;
    normalRows += here.normal;
    const fpHere = here.fp;
    if (truth.length === 0) {
      quietBatches++;
      quietRows += body.length;
      for (let r = 0; r < body.length; r++) quietFlags += anomaly[r];
    }
    if (spec.profile === 'level-shift' && b >= LEVEL_SHIFT_AT && fpHere > 2) {
      floodBatches++;
      lastFlood = b - LEVEL_SHIFT_AT;
    }
    foldBatch(state, { key: `raw/${spec.name}_${b}.csv`, channels, values, rows: body.length, channelAnomalous, anomaly });
  }

  const precision = tp + fp > 0 ? tp / (tp + fp) : 1;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 1;
  const sorted = times.sort((a, b) => a - b);
  let afterRelearn: { f1AfterRelearn: number; fprAfterRelearn: number } | undefined;
  if (spec.profile === 'level-shift') {
    const kept = perBatch.filter((_, b) => b < LEVEL_SHIFT_AT || b > LEVEL_SHIFT_AT + lastFlood);
    const sum = (k: 'tp' | 'fp' | 'fn' | 'normal') => kept.reduce((a, x) => a + x[k], 0);
    const p = sum('tp') / Math.max(1, sum('tp') + sum('fp'));
    const rc = sum('tp') / Math.max(1, sum('tp') + sum('fn'));
    afterRelearn = { f1AfterRelearn: p + rc > 0 ? (2 * p * rc) / (p + rc) : 0, fprAfterRelearn: sum('fp') / Math.max(1, sum('normal')) };
  }
  return {
    stream: spec.name,
    isolation: options.isolation,
    batches: options.batches,
    rows: options.batches * options.rows,
    truePositives: tp,
    falsePositives: fp,
    falseNegatives: fn,
    precision,
    recall,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    fpr: normalRows > 0 ? fp / normalRows : 0,
    fprAllNormalBatches: quietRows > 0 ? quietFlags / quietRows : NaN,
    allNormalBatches: quietBatches,
    isolationFlagged,
    ...(spec.profile === 'level-shift' ? { shiftFloodBatches: floodBatches, shiftLastFloodBatch: lastFlood, ...afterRelearn } : {}),
    refits,
    medianScoreMs: sorted.length ? sorted[sorted.length >> 1] : NaN,
  };
}
