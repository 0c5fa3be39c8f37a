/**
 * Producer-compatible batches with ground truth, pure and seeded: the same rng state and arguments
 * always give the same CSV. Shared by `npm run producer` and `npm run evaluate`.
 *
 * Profiles (the streams of the evaluation):
 * - `reference`: the reference producer: temperature ~ N(22, 1.5), humidity ~ N(55, 5),
 *   pressure ~ N(1013, 3), wind_speed = |N(10, 2.5)|.
 * - `drift`: as reference, but every channel mean drifts linearly by 0.01 std per batch
 *   (2 std over 200 batches; temperature and pressure up, humidity and wind down).
 * - `fast-drift`: the same at 0.02 std per batch (4 std over 200 batches).
 * - `quiet-fifth`: as reference, but every fifth batch (batchIndex % 5 === 4) has no anomaly.
 * - `level-shift`: as reference, but from batch `LEVEL_SHIFT_AT` on, the pressure mean is
 *   `LEVEL_SHIFT_STD` std higher, for good.
 * - `server`: skewed, bounded, discrete and near-constant server metrics:
 *   `timestamp,host,cpu_pct,latency_ms,requests,disk_used_pct` with cpu_pct = 100 * Beta(4, 10)
 *   (bounded 0-100, skewed), latency_ms lognormal (median 120 ms, sigma 0.35), requests ~
 *   Poisson(20) (repeated values), disk_used_pct near-constant (71.30 plus 0.01 every 2 hours of
 *   stream time, a reading 0.01 off in 2% of rows). Injected anomalies are bursts: cpu 92-100 %,
 *   latency x6-x12, requests at 2.2-3x the rate, disk +3 to +6 points.
 * - `correlated`: server channels that move together,
 *   `timestamp,host,requests_per_s,cpu_pct,latency_ms,memory_pct` with requests_per_s ~ N(200, 40),
 *   cpu_pct = 10 + 0.2 * requests + N(0, 2) (correlation 0.97 with requests), latency_ms =
 *   80 + 1.5 * (cpu - 50) + N(0, 5), memory_pct = 62 + 1.5 sin(2 pi minute / 1440) + N(0, 1) (a
 *   slow daily cycle). Marginal means and stds: `CORRELATED_MARGINALS`. Two kinds of anomaly
 *   (`truth[].kind`): a `spike` as in the Gaussian profiles (one channel pushed 5-8 of its marginal
 *   std, kept >= 0 and cpu/memory <= 100), and, for `CORRELATION_BREAK_SHARE` of the anomalous rows, a `correlation-break`: cpu at
 *   +2 to +2.5 std while requests stay within -1.5..+0.5 std (cpu 12-16 noise std above what the
 *   requests explain), latency following cpu; every channel is clamped to within 2.5 std of its own
 *   mean, so only the combination is unusual (truth channel `cpu_pct`).
 *
 * - `seasonal`: channels that follow the clock, `timestamp,requests_per_min,cpu_pct,temperature`:
 *   requests = 120 + 400 b(t) with b(t) an office-hours bump (0 at night, 1 at 13:00 on weekdays,
 *   0.25 of it at weekends), noise N(0, 8 + 0.05 * mean) (busier hours are noisier); cpu = 8 +
 *   0.1 * requests + N(0, 2); temperature = 20 + 4 sin(2 pi (hour - 9) / 24) + N(0, 0.5). Injected
 *   anomalies are pushed 5-8 of the channel's spread *at that hour*, which mostly stays inside the
 *   range the channel covers over a day: only a baseline that knows the time of day can see them.
 *
 * Injected anomalies (all profiles): max(1, floor(rows / 20)) distinct rows, one random channel
 * each (a correlation break instead for some rows of `correlated`). For the Gaussian profiles the value is pushed 5-8 of the channel's std away, random sign,
 * added to the value drawn (as the reference producer does: its wind_speed anomalies go negative).
 * `truth[].row` is the 0-based data row (the header is not counted).
 */
import {
  beta,
  normal,
  poisson,
  randomInt,
  Rng,
  sampleWithoutReplacement,
  uniform,
} from '../detection/seeded-random';

export type BatchProfile = 'reference' | 'drift' | 'fast-drift' | 'quiet-fifth' | 'level-shift' | 'server' | 'correlated' | 'seasonal';

export const BATCH_PROFILES: readonly BatchProfile[] = ['reference', 'drift', 'fast-drift', 'quiet-fifth', 'level-shift', 'server', 'correlated', 'seasonal'];

export const LEVEL_SHIFT_AT = 100;
export const LEVEL_SHIFT_STD = 6;
const DRIFT_STD_PER_BATCH = 0.01;

export interface GenerateBatchOptions {
  rows: number;
  /** Timestamp of the first row; one row per minute after it. */
  start: Date;
  rng: Rng;
  profile?: BatchProfile;
  /** Default: true, except the all-normal batches of `quiet-fifth`. */
  injectAnomalies?: boolean;
  /** Position of the batch in its stream (drift, level shift, quiet batches, near-constant steps). */
  batchIndex?: number;
}

/** `correlation-break`: every value within its usual range, only their combination is unusual. */
export type AnomalyKind = 'spike' | 'correlation-break';

export interface TruthEntry {
  row: number;
  channel: string;
  /** Set by the `correlated` profile, which mixes the two kinds; the other profiles inject spikes only. */
  kind?: AnomalyKind;
}

export interface GeneratedBatch {
  csv: string;
  truth: TruthEntry[];
  columns: string[];
}

interface GaussianChannel {
  name: string;
  mean: number;
  std: number;
  abs?: boolean;
  /** +1 / -1: direction of the `drift` profile. */
  drift: number;
}

const SENSOR_CHANNELS: readonly GaussianChannel[] = [
  { name: 'temperature', mean: 22, std: 1.5, drift: 1 },
  { name: 'humidity', mean: 55, std: 5, drift: -1 },
  { name: 'pressure', mean: 1013, std: 3, drift: 1 },
  { name: 'wind_speed', mean: 10, std: 2.5, abs: true, drift: -1 },
];

export const SENSOR_COLUMNS = ['timestamp', ...SENSOR_CHANNELS.map((c) => c.name)];
export const SERVER_COLUMNS = ['timestamp', 'host', 'cpu_pct', 'latency_ms', 'requests', 'disk_used_pct'];

/** `2026-02-24T00:10:51.000`, UTC, as the reference producer writes it. */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23);
}

/** Rounds to 2 decimals and prints without trailing zeros (`11`, `1014.5`), like the reference. */
export function formatValue(x: number): string {
  const r = Math.round(x * 100) / 100;
  return String(Object.is(r, -0) ? 0 : r);
}

export function anomalyCount(rows: number): number {
  return rows <= 0 ? 0 : Math.max(1, Math.floor(rows / 20));
}

export function generateBatch(options: GenerateBatchOptions): GeneratedBatch {
  const { rows, start, rng } = options;
  const profile = options.profile ?? 'reference';
  const batchIndex = options.batchIndex ?? 0;
  if (!Number.isInteger(rows) || rows < 0) throw new Error(`rows must be a non-negative integer, got ${rows}`);
  if (!BATCH_PROFILES.includes(profile)) throw new Error(`unknown profile "${profile}"`);
  const inject = options.injectAnomalies ?? !(profile === 'quiet-fifth' && batchIndex % 5 === 4);
  if (profile === 'server') return serverBatch(rows, start.getTime(), rng, inject, batchIndex);
  if (profile === 'correlated') return correlatedBatch(rows, start.getTime(), rng, inject, batchIndex);
  if (profile === 'seasonal') return seasonalBatch(rows, start.getTime(), rng, inject);
  return sensorBatch(rows, start.getTime(), rng, inject, batchIndex, profile);
}

function pickAnomalies(rng: Rng, rows: number, channels: number, inject: boolean): Map<number, number> {
  const chosen = new Map<number, number>();
  if (!inject || rows === 0) return chosen;
  const picked = sampleWithoutReplacement(rng, rows, anomalyCount(rows));
  for (const row of picked) chosen.set(row, randomInt(rng, channels));
  return chosen;
}

function sensorBatch(
  rows: number,
  startMs: number,
  rng: Rng,
  inject: boolean,
  batchIndex: number,
  profile: BatchProfile,
): GeneratedBatch {
  const lines: string[] = [SENSOR_COLUMNS.join(',')];
  const values = new Float64Array(SENSOR_CHANNELS.length);
  const rowsValues: Float64Array[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < SENSOR_CHANNELS.length; c++) {
      const ch = SENSOR_CHANNELS[c];
      let mean = ch.mean;
      if (profile === 'drift' || profile === 'fast-drift') {
        const rate = profile === 'drift' ? DRIFT_STD_PER_BATCH : 2 * DRIFT_STD_PER_BATCH;
        mean += ch.drift * rate * ch.std * (batchIndex + r / Math.max(rows, 1));
      }
      if (profile === 'level-shift' && ch.name === 'pressure' && batchIndex >= LEVEL_SHIFT_AT) {
        mean += LEVEL_SHIFT_STD * ch.std;
      }
      const x = normal(rng, mean, ch.std);
      values[c] = ch.abs ? Math.abs(x) : x;
    }
    rowsValues.push(Float64Array.from(values));
  }
  const anomalies = pickAnomalies(rng, rows, SENSOR_CHANNELS.length, inject);
  const truth: TruthEntry[] = [];
  for (const [row, c] of [...anomalies.entries()].sort((a, b) => a[0] - b[0])) {
    const ch = SENSOR_CHANNELS[c];
    const sign = rng() < 0.5 ? -1 : 1;
    rowsValues[row][c] += sign * uniform(rng, 5, 8) * ch.std;
    truth.push({ row, channel: ch.name });
  }
  for (let r = 0; r < rows; r++) {
    const v = rowsValues[r];
    lines.push(`${formatTimestamp(startMs + r * 60_000)},${formatValue(v[0])},${formatValue(v[1])},${formatValue(v[2])},${formatValue(v[3])}`);
  }
  return { csv: lines.join('\n') + '\n', truth, columns: [...SENSOR_COLUMNS] };
}

const SERVER_CHANNELS = ['cpu_pct', 'latency_ms', 'requests', 'disk_used_pct'] as const;

function serverBatch(rows: number, startMs: number, rng: Rng, inject: boolean, batchIndex: number): GeneratedBatch {
  const lines: string[] = [SERVER_COLUMNS.join(',')];
  const data: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const minute = batchIndex * rows + r;
    const cpu = 100 * beta(rng, 4, 10);
    const latency = 120 * Math.exp(normal(rng, 0, 0.35));
    const requests = poisson(rng, 20);
    let disk = 71.3 + 0.01 * Math.floor(minute / 120);
    if (rng() < 0.02) disk += rng() < 0.5 ? -0.01 : 0.01;
    data.push([cpu, latency, requests, disk]);
  }
  const anomalies = pickAnomalies(rng, rows, SERVER_CHANNELS.length, inject);
  const truth: TruthEntry[] = [];
  for (const [row, c] of [...anomalies.entries()].sort((a, b) => a[0] - b[0])) {
    const v = data[row];
    if (c === 0) v[0] = uniform(rng, 92, 100);
    else if (c === 1) v[1] *= uniform(rng, 6, 12);
    else if (c === 2) v[2] = poisson(rng, 20 * uniform(rng, 2.2, 3));
    else v[3] += uniform(rng, 3, 6);
    truth.push({ row, channel: SERVER_CHANNELS[c] });
  }
  for (let r = 0; r < rows; r++) {
    const v = data[r];
    lines.push(
      `${formatTimestamp(startMs + r * 60_000)},web-01,${formatValue(Math.min(100, v[0]))},${formatValue(v[1])},${v[2]},${formatValue(v[3])}`,
    );
  }
  return { csv: lines.join('\n') + '\n', truth, columns: [...SERVER_COLUMNS] };
}

export const CORRELATED_COLUMNS = ['timestamp', 'host', 'requests_per_s', 'cpu_pct', 'latency_ms', 'memory_pct'];
const CORRELATED_CHANNELS = ['requests_per_s', 'cpu_pct', 'latency_ms', 'memory_pct'] as const;

const REQUESTS = { mean: 200, std: 40 };
const CPU = { base: 10, perRequest: 0.2, noise: 2 };
const LATENCY = { base: 80, perCpu: 1.5, noise: 5 };
const MEMORY = { mean: 62, amplitude: 1.5, noise: 1, periodMinutes: 1440 };
const CPU_MEAN = CPU.base + CPU.perRequest * REQUESTS.mean;
const CPU_STD = Math.hypot(CPU.perRequest * REQUESTS.std, CPU.noise);

/** Marginal mean and std of each channel of the `correlated` profile's normal rows (from its model). */
export const CORRELATED_MARGINALS: Readonly<Record<(typeof CORRELATED_CHANNELS)[number], { mean: number; std: number }>> = {
  requests_per_s: REQUESTS,
  cpu_pct: { mean: CPU_MEAN, std: CPU_STD },
  latency_ms: { mean: LATENCY.base, std: Math.hypot(LATENCY.perCpu * CPU_STD, LATENCY.noise) },
  // A sine of amplitude a has variance a^2 / 2 over whole periods.
  memory_pct: { mean: MEMORY.mean, std: Math.sqrt((MEMORY.amplitude * MEMORY.amplitude) / 2 + MEMORY.noise * MEMORY.noise) },
};

/** Share of the `correlated` profile's anomalous rows that are correlation breaks rather than spikes. */
export const CORRELATION_BREAK_SHARE = 0.4;
/** A correlation break keeps every channel within this many of its marginal std from its mean. */
export const CORRELATION_BREAK_MAX_Z = 2.5;

function correlatedBatch(rows: number, startMs: number, rng: Rng, inject: boolean, batchIndex: number): GeneratedBatch {
  const lines: string[] = [CORRELATED_COLUMNS.join(',')];
  const m = CORRELATED_MARGINALS;
  const latencyOf = (cpu: number) => LATENCY.base + LATENCY.perCpu * (cpu - CPU_MEAN) + normal(rng, 0, LATENCY.noise);
  const data: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const minute = batchIndex * rows + r;
    const requests = normal(rng, REQUESTS.mean, REQUESTS.std);
    const cpu = CPU.base + CPU.perRequest * requests + normal(rng, 0, CPU.noise);
    const memory = MEMORY.mean + MEMORY.amplitude * Math.sin((2 * Math.PI * minute) / MEMORY.periodMinutes) + normal(rng, 0, MEMORY.noise);
    data.push([requests, cpu, latencyOf(cpu), memory]);
  }
  const anomalies = pickAnomalies(rng, rows, CORRELATED_CHANNELS.length, inject);
  const truth: TruthEntry[] = [];
  const clamp = (c: number, x: number) => {
    const { mean, std } = m[CORRELATED_CHANNELS[c]];
    return Math.min(mean + CORRELATION_BREAK_MAX_Z * std, Math.max(mean - CORRELATION_BREAK_MAX_Z * std, x));
  };
  for (const [row, c] of [...anomalies.entries()].sort((a, b) => a[0] - b[0])) {
    const v = data[row];
    if (rng() < CORRELATION_BREAK_SHARE) {
      // Something other than traffic burns CPU (a runaway job): requests ordinary, cpu high for them.
      v[0] = REQUESTS.mean + uniform(rng, -1.5, 0.5) * REQUESTS.std;
      v[1] = CPU_MEAN + uniform(rng, 2, CORRELATION_BREAK_MAX_Z) * CPU_STD;
      v[2] = latencyOf(v[1]);
      for (let k = 0; k < v.length; k++) v[k] = clamp(k, v[k]);
      truth.push({ row, channel: 'cpu_pct', kind: 'correlation-break' });
    } else {
      const sign = rng() < 0.5 ? -1 : 1;
      // Kept physical (no negative rate, no cpu above 100 %): the bound is still >= 5 std out.
      const x = v[c] + sign * uniform(rng, 5, 8) * m[CORRELATED_CHANNELS[c]].std;
      v[c] = Math.max(0, c === 1 || c === 3 ? Math.min(100, x) : x);
      truth.push({ row, channel: CORRELATED_CHANNELS[c], kind: 'spike' });
    }
  }
  for (let r = 0; r < rows; r++) {
    const v = data[r];
    lines.push(`${formatTimestamp(startMs + r * 60_000)},web-01,${formatValue(v[0])},${formatValue(v[1])},${formatValue(v[2])},${formatValue(v[3])}`);
  }
  return { csv: lines.join('\n') + '\n', truth, columns: [...CORRELATED_COLUMNS] };
}

export const SEASONAL_COLUMNS = ['timestamp', 'requests_per_min', 'cpu_pct', 'temperature'];

/** The office-hours bump: 0 at night, 1 at 13:00 UTC on weekdays, a quarter of that at weekends. */
function officeHours(ms: number): number {
  const hour = (ms / 3_600_000) % 24;
  const weekday = (Math.floor(ms / 86_400_000) + 3) % 7; // 0 = Monday
  const bump = hour > 7 && hour < 19 ? Math.sin((Math.PI * (hour - 7)) / 12) ** 2 : 0;
  return weekday >= 5 ? 0.25 * bump : bump;
}

function seasonalBatch(rows: number, startMs: number, rng: Rng, inject: boolean): GeneratedBatch {
  const lines: string[] = [SEASONAL_COLUMNS.join(',')];
  const data: number[][] = [];
  const spread: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const t = startMs + r * 60_000;
    const requestsMean = 120 + 400 * officeHours(t);
    const requestsStd = 8 + 0.05 * requestsMean;
    const requests = normal(rng, requestsMean, requestsStd);
    const cpu = 8 + 0.1 * requests + normal(rng, 0, 2);
    const temperature = 20 + 4 * Math.sin((2 * Math.PI * ((t / 3_600_000) % 24 - 9)) / 24) + normal(rng, 0, 0.5);
    data.push([requests, cpu, temperature]);
    // cpu's own spread at that hour: its noise plus what the requests' noise passes on.
    spread.push([requestsStd, Math.hypot(2, 0.1 * requestsStd), 0.5]);
  }
  const anomalies = pickAnomalies(rng, rows, 3, inject);
  const truth: TruthEntry[] = [];
  for (const [row, c] of [...anomalies.entries()].sort((a, b) => a[0] - b[0])) {
    const sign = rng() < 0.5 ? -1 : 1;
    data[row][c] += sign * uniform(rng, 5, 8) * spread[row][c];
    truth.push({ row, channel: SEASONAL_COLUMNS[c + 1] });
  }
  for (let r = 0; r < rows; r++) {
    const v = data[r];
    lines.push(`${formatTimestamp(startMs + r * 60_000)},${formatValue(v[0])},${formatValue(v[1])},${formatValue(v[2])}`);
  }
  return { csv: lines.join('\n') + '\n', truth, columns: [...SEASONAL_COLUMNS] };
}
