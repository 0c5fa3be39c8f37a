import { BatchContribution } from '../../src/baseline/batch-contribution';
import { RunningStats } from '../../src/baseline/running-stats';
import { BaselineSnapshot } from '../../src/detection/detection.types';
import { createRng } from '../../src/detection/seeded-random';

/** Seeded, so test streams are reproducible: the project's own PRNG. */
export const rng = createRng;

export function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/**
 * Builds a BatchContribution the way the pipeline does: per channel, values for which `flagged`
 * says true are rejected, the others accepted; rows with no flagged value are normal rows.
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
