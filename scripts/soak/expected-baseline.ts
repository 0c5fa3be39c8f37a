import { RunningStats } from '../../src/baseline/running-stats';

export interface ChannelFigures {
  count: number;
  mean: number;
  std: number;
}

/**
 * The baseline a sequential, fault-free run folds from these files when every value is folded
 * (BASELINE_INCLUDE_ANOMALIES=true): per numeric column, the statistics of all its values, pushed
 * in file order with the project's own RunningStats. With the default (flagged values left out)
 * what is folded depends on the order batches are scored in, so no order-free expectation exists.
 */
export function expectedBaseline(csvs: Iterable<string>): Record<string, RunningStats> {
  const out: Record<string, RunningStats> = {};
  for (const csv of csvs) {
    const lines = csv.split('\n').filter((l) => l.trim() !== '');
    const header = lines[0].split(',').map((c) => c.trim());
    const columns = header.map((name, i) => ({ name, i })).filter(({ name }) => name !== 'timestamp');
    for (const { name } of columns) out[name] ??= new RunningStats();
    for (let r = 1; r < lines.length; r++) {
      const cells = lines[r].split(',');
      for (const { name, i } of columns) out[name].push(Number(cells[i]));
    }
  }
  return out;
}

export interface BaselineComparison {
  ok: boolean;
  /** One line per channel that differs, or per channel missing on either side. */
  problems: string[];
  /** Largest relative difference of mean or std seen (0 when identical). */
  worstRelative: number;
}

/**
 * Compares `actual` with `expected`: counts must be equal exactly; mean and std within `tolerance`
 * as `|a - e| <= tolerance(e)`. The relative error is reported either way.
 */
export function compareBaseline(
  expected: Record<string, ChannelFigures>,
  actual: Record<string, ChannelFigures | undefined>,
  tolerance: (expected: number) => number,
): BaselineComparison {
  const problems: string[] = [];
  let worstRelative = 0;
  for (const [channel, e] of Object.entries(expected)) {
    const a = actual[channel];
    if (!a) {
      problems.push(`${channel}: missing`);
      continue;
    }
    if (a.count !== e.count) problems.push(`${channel}: count ${a.count}, expected ${e.count}`);
    for (const field of ['mean', 'std'] as const) {
      const diff = Math.abs(a[field] - e[field]);
      worstRelative = Math.max(worstRelative, diff / Math.max(Math.abs(e[field]), Number.MIN_VALUE));
      if (!(diff <= tolerance(e[field]))) problems.push(`${channel}: ${field} ${a[field]}, expected ${e[field]}`);
    }
  }
  for (const channel of Object.keys(actual)) {
    if (!(channel in expected)) problems.push(`${channel}: not expected`);
  }
  return { ok: problems.length === 0, problems, worstRelative };
}

/** Relative tolerance: the "to 1e-9 relative". */
export const relative = (r: number) => (e: number) => r * Math.abs(e);

/**
 * /baseline/current rounds observations, mean and std to 4 decimals, so it can only agree to half a
 * unit of the 4th decimal (plus a hair for the rounding of the expectation itself).
 */
export const fourDecimals = (e: number) => 0.5e-4 + 1e-9 * Math.abs(e);
