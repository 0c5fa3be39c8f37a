/**
 * The evaluation's streams and how one batch of a stream is generated, shared by both ways of
 * replaying them (through the pipeline, or on the detector directly for the ablation).
 */
import { SeasonalityMode } from '../../src/detection/season-profile';
import { Rng } from '../../src/detection/seeded-random';
import { BatchProfile, GeneratedBatch, generateBatch, LEVEL_SHIFT_AT } from '../../src/producer/batch-generator';

export interface StreamSpec {
  name: string;
  profile: BatchProfile;
  description: string;
}

export const STREAMS: readonly StreamSpec[] = [
  { name: 'reference', profile: 'reference', description: "the reference producer's distribution" },
  { name: 'drift', profile: 'drift', description: 'channel means drift 0.01 std per batch (2 std over the stream)' },
  { name: 'fast-drift', profile: 'fast-drift', description: 'channel means drift 0.02 std per batch (4 std over the stream)' },
  { name: 'quiet-fifth', profile: 'quiet-fifth', description: 'every fifth batch has no anomaly' },
  { name: 'level-shift', profile: 'level-shift', description: `pressure mean +6 std from batch ${LEVEL_SHIFT_AT} on` },
  { name: 'server', profile: 'server', description: 'skewed, bounded, discrete, near-constant server metrics with bursts' },
  {
    name: 'correlated',
    profile: 'correlated',
    description: 'requests, cpu, latency moving together; single-channel spikes and correlation breaks (cpu high for normal requests)',
  },
  {
    name: 'seasonal',
    profile: 'seasonal',
    description: 'office-hours traffic (weekends quieter) and a daily temperature curve; anomalies of 5-8 std of the hour, mostly inside the daily range',
  },
];

/** The stream that the drift comparison (with and without BASELINE_HALF_LIFE) runs on. */
export const DRIFT_STREAM = 'drift';

/** Replay length and seed; `halfLife` is BASELINE_HALF_LIFE (undefined: cumulative statistics). */
export interface StreamOptions {
  batches: number;
  rows: number;
  seed: number;
  halfLife?: number;
  /** SEASONALITY (default auto). */
  seasonality?: SeasonalityMode;
}

/** The stream that runs a second time with SEASONALITY=off, for comparison. */
export const SEASONAL_STREAM = 'seasonal';

const START = Date.UTC(2026, 1, 24, 0, 0, 0);

/** Batch `b` of a stream; call for b = 0, 1, ... in order with one rng per stream. */
export function streamBatch(spec: StreamSpec, rng: Rng, b: number, rows: number): GeneratedBatch {
  return generateBatch({ rows, start: new Date(START + b * rows * 60_000), rng, profile: spec.profile, batchIndex: b });
}

/** The raw object key of batch `b`, as a producer would upload it. */
export function batchKey(spec: StreamSpec, b: number): string {
  return `raw/${spec.name}_${b}.csv`;
}
