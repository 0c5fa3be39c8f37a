import { BatchContribution } from '../../src/baseline/batch-contribution';
import { RelearnAfter } from '../../src/baseline/channel-learning';
import { RunningStats } from '../../src/baseline/running-stats';
import { BaselineSnapshot } from '../../src/detection/detection.types';
import { createDetector } from '../../src/detection/detector';
import { createRng } from '../../src/detection/seeded-random';
import { ContributionBuilder, LearningStart } from '../../src/processing/contribution-builder';

/** Seeded, so test streams are reproducible: the project's own PRNG. */
export const rng = createRng;

export function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/**
 * Builds a bare BatchContribution by hand (no learning beyond the moments): per channel, values
 * for which `flagged` says true are rejected, the others accepted; rows with no flagged value are
 * normal rows. For what the pipeline really learns, `learnedContribution`.
 */
export function contributionOf(
  columns: string[],
  rows: number[][],
  flagged: (column: number, value: number, row: number) => boolean = () => false,
  entity?: string,
): BatchContribution {
  const accepted = columns.map(() => new RunningStats());
  const rejected = columns.map(() => new RunningStats());
  const normalRows: BatchContribution['normalRows'] = [];
  rows.forEach((row, r) => {
    let normal = true;
    row.forEach((v, c) => {
      if (!Number.isFinite(v)) return;
      if (flagged(c, v, r)) {
        rejected[c].push(v);
        normal = false;
      } else {
        accepted[c].push(v);
      }
    });
    if (normal) normalRows.push(entity === undefined ? { values: row } : { values: row, entity });
  });
  return {
    channels: columns.map((channel, c) => ({ channel, ...(entity === undefined ? {} : { entity }), accepted: accepted[c], rejected: rejected[c] })),
    normalRows,
    windowColumns: columns,
  };
}

/** A stand-in for the detector's per-value verdict: |z| > threshold against a mature snapshot. */
export function zFlagger(snapshot: BaselineSnapshot, columns: string[], minCount: number, threshold = 4, entity?: string) {
  return (c: number, v: number) => {
    const b = snapshot.lookup(columns[c], entity);
    if (!b || b.count < minCount || b.std === 0) return false;
    return Math.abs(v - b.mean) / b.std > threshold;
  };
}

/** `n` rows of independent Gaussians, one per column, with the given means and stds. */
export function gaussianRows(r: () => number, n: number, means: number[], stds: number[]): number[][] {
  return Array.from({ length: n }, () => means.map((m, c) => Math.round((m + stds[c] * gaussian(r)) * 100) / 100));
}

/**
 * A batch as the pipeline learns it: scored by the real detector against `snapshot` (its cold
 * start fed with the batch itself), its contribution built by the real ContributionBuilder from the
 * detector's channel models, so the tails, changes, episodes and learning limits are the service's.
 * Rows are `time0 + i * stepMs` apart in time when `time0` is given.
 */
export function learnedContribution(
  snapshot: BaselineSnapshot,
  columns: string[],
  rows: number[][],
  options: { minCount?: number; entity?: string; time0?: number; stepMs?: number; relearnAfter?: RelearnAfter } = {},
): { contribution: BatchContribution; flagged: number; channelFlags: Int8Array[] } {
  const settings = { zThreshold: 3, minCount: options.minCount ?? 30, trees: 10, seed: 1 };
  const entity = options.entity;
  const sample = rows.map((values) => (entity === undefined ? { values } : { values, entity }));
  const detector = createDetector(snapshot, columns, settings, { coldStartSample: sample, isolation: 'off', joint: false });
  const learningStart = (snapshot as { learningStart?: (c: string, e?: string) => LearningStart | undefined }).learningStart;
  const builder = new ContributionBuilder(
    columns,
    { models: (e) => detector.channelModels(e), start: learningStart ? (c, e) => learningStart.call(snapshot, c, e) : undefined, relearnAfter: options.relearnAfter },
    2048,
  );
  const out = detector.newRowScore();
  let flagged = 0;
  const channelFlags: Int8Array[] = [];
  rows.forEach((row, i) => {
    const values = Float64Array.from(row);
    detector.score(values, entity, out);
    if (out.anomaly) flagged++;
    channelFlags.push(out.channelAnomalous.slice());
    const time = options.time0 === undefined ? NaN : options.time0 + i * (options.stepMs ?? 60_000);
    builder.add(values, 0, entity, out, i + 2, time);
  });
  return { contribution: builder.build(), flagged, channelFlags };
}
