import { BaselineSnapshot } from '../detection/detection.types';
import { ScoringOutcome } from './csv-scorer';

/**
 * `processed/<name>_summary.json`. The reference's fields first, same names and meaning, then ours.
 * `baseline_observation_counts` is, as in the reference, the baseline's count per channel after this
 * batch was folded in (summed over the batch's entities with ENTITY_COLUMN); `baseline_mature` is
 * whether the baseline the batch was scored against was mature. `anomaly_rate` has 4 decimals, as
 * the reference writes it.
 */
export interface BatchSummary {
  source_key: string;
  output_key: string;
  processed_at: string;
  total_rows: number;
  anomaly_count: number;
  anomaly_rate: number;
  baseline_observation_counts: Record<string, number>;
  etag: string | null;
  channels: string[];
  entity_column: string | null;
  excluded_columns: { column: string; reason: string }[];
  unscorable_rows: number;
  /** Rows inside an operator's incident or maintenance window (POST /feedback): scored, not learned. */
  excluded_rows: number;
  /** Rows where the channel's value counted toward the row's anomaly. */
  channel_anomaly_counts: Record<string, number>;
  /** Rows with `<ch>_zscore_flag` True (the reference's rule, |z| > Z_THRESHOLD on a mature channel). */
  zscore_flag_counts: Record<string, number>;
  isolation_flag_count: number;
  missing_values: Record<string, number>;
  /** Per channel: were there at least BASELINE_MIN_COUNT observations before this batch. */
  baseline_mature: Record<string, boolean>;
  /** Values within their learning limits per channel: learned as they are. */
  accepted_values: Record<string, number>;
  /**
   * Weight of the values beyond their learning limits per channel, learned at the limit they passed
   * (fully for an isolated spike, less inside a sustained episode; src/baseline/channel-learning.ts).
   * The baseline's count grows by accepted_values + limited_values (by accepted + all values beyond
   * with BASELINE_INCLUDE_ANOMALIES).
   */
  limited_values: Record<string, number>;
  bytes_in: number;
  bytes_out: number;
  duration_ms: number;
}

export interface SummaryContext {
  sourceKey: string;
  outputKey: string;
  etag?: string;
  entityColumn?: string;
  minCount: number;
  processedAt: Date;
  durationMs: number;
}

export function buildSummary(
  outcome: ScoringOutcome,
  snapshot: BaselineSnapshot,
  ctx: SummaryContext,
  after: BaselineSnapshot = snapshot,
): BatchSummary {
  const channels = outcome.inference.channels;
  const perChannel = <T>(f: (ch: string, c: number) => T): Record<string, T> => {
    const out: Record<string, T> = Object.create(null);
    channels.forEach((ch, c) => (out[ch] = f(ch, c)));
    return { ...out };
  };
  const entities = ctx.entityColumn ? outcome.entities : [undefined];
  const countAfter = (ch: string) => entities.reduce<number>((sum, e) => sum + (after.lookup(ch, e)?.count ?? 0), 0);
  return {
    source_key: ctx.sourceKey,
    output_key: ctx.outputKey,
    processed_at: ctx.processedAt.toISOString(),
    total_rows: outcome.totalRows,
    anomaly_count: outcome.anomalyCount,
    anomaly_rate: outcome.totalRows > 0 ? Math.round((outcome.anomalyCount / outcome.totalRows) * 10000) / 10000 : 0,
    baseline_observation_counts: perChannel((ch) => countAfter(ch)),
    etag: ctx.etag ?? null,
    channels: [...channels],
    entity_column: ctx.entityColumn ?? null,
    excluded_columns: outcome.inference.excluded.map((e) => ({ column: e.column, reason: e.reason })),
    unscorable_rows: outcome.unscorableRows,
    excluded_rows: outcome.excludedRows,
    channel_anomaly_counts: perChannel((_, c) => outcome.channelAnomalyCounts[c]),
    zscore_flag_counts: perChannel((_, c) => outcome.zscoreFlagCounts[c]),
    isolation_flag_count: outcome.isolationFlagCount,
    missing_values: perChannel((_, c) => outcome.missingValues[c]),
    baseline_mature: perChannel((ch) =>
      entities.every((e) => (snapshot.lookup(ch, e)?.count ?? 0) >= ctx.minCount),
    ),
    accepted_values: perChannel((_, c) => outcome.acceptedValues[c]),
    limited_values: perChannel((ch) => round4(outcome.contribution.channels.reduce((sum, e) => sum + (e.channel === ch ? (e.winsorised?.count ?? 0) : 0), 0))),
    bytes_in: outcome.bytesRead,
    bytes_out: outcome.bytesWritten,
    duration_ms: ctx.durationMs,
  };
}

function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}
