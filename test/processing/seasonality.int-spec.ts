/**
 * Seasonal baselines through the real pipeline (raw CSV -> scored CSV -> fold), on a stream that
 * follows the clock: office-hours traffic and a daily temperature curve.
 */
import { BaselineState } from '../../src/baseline/baseline-state';
import { AppConfig } from '../../src/config/app-config';
import { SeasonalityMode } from '../../src/detection/season-profile';
import { createRng } from '../../src/detection/seeded-random';
import { pipelineSettings } from '../../src/processing/pipeline-settings';
import { generateBatch, SEASONAL_COLUMNS } from '../../src/producer/batch-generator';
import { PipelineReplayer, readScoredColumns } from '../../scripts/evaluation/pipeline-replayer';

/** A Tuesday, as the evaluation's streams start. */
const START = Date.UTC(2026, 1, 24);
const ROWS = 100;
/** Four days of one row a minute. */
const BATCHES = 58;

async function warmedUp(seasonality: SeasonalityMode): Promise<PipelineReplayer> {
  const replayer = await PipelineReplayer.create(`seasonal-${seasonality}`, pipelineSettings(AppConfig.forTest({})), { seasonality });
  const rng = createRng(3);
  for (let b = 0; b < BATCHES; b++) {
    const { csv } = generateBatch({ rows: ROWS, start: new Date(START + b * ROWS * 60_000), rng, profile: 'seasonal', injectAnomalies: false, batchIndex: b });
    await replayer.replay(`raw/seasonal_${b}.csv`, csv);
  }
  return replayer;
}

/** Half an hour of rows from `iso` (UTC), at noon-time traffic with the cpu it brings. */
function halfHour(iso: string, temperature: number): string {
  const lines = [SEASONAL_COLUMNS.join(',')];
  const t0 = Date.parse(iso);
  for (let i = 0; i < 30; i++) {
    const wiggle = ((i * 7) % 5) - 2;
    lines.push(`${new Date(t0 + i * 60_000).toISOString().slice(0, 23)},${480 + 6 * wiggle},${56 + 0.6 * wiggle},${temperature + 0.1 * wiggle}`);
  }
  return lines.join('\n') + '\n';
}

const flagged = (scored: string) => readScoredColumns(scored, 'probe').anomaly.reduce((a, b) => a + b, 0);

describe('seasonal baselines through the pipeline', () => {
  let seasonal: PipelineReplayer;
  let plain: PipelineReplayer;

  beforeAll(async () => {
    [seasonal, plain] = await Promise.all([warmedUp('auto'), warmedUp('off')]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([seasonal?.close(), plain?.close()]);
  });

  it('finds the daily cycle of each channel', () => {
    const periods = Object.fromEntries(seasonal.state.channels().map((c) => [c.channel, c.season?.period ?? null]));
    expect(periods).toEqual({ requests_per_min: 'daily', cpu_pct: 'daily', temperature: 'daily' });
    expect(plain.state.channels().every((c) => c.season === undefined)).toBe(true);
  });

  it('flags night traffic at its noon level for as long as it lasts, and not the same traffic at noon', async () => {
    // Day 5, 03:00: half an hour of traffic at its noon level (what is unusual is the hour).
    const night = halfHour('2026-03-01T03:00:00.000Z', 17.2);
    const atNight = await seasonal.replay('raw/probe-night.csv', night);
    expect(flagged(atNight.scored)).toBeGreaterThanOrEqual(27);
    expect(readScoredColumns(atNight.scored, 'night').reasons[29]).toMatch(/requests_per_min seasonal z=/);
    const atNoon = await seasonal.replay('raw/probe-noon.csv', halfHour('2026-03-01T13:00:00.000Z', 23.2));
    expect(flagged(atNoon.scored)).toBeLessThanOrEqual(1);
    // Without seasons the night traffic is within the channel's daily range: only its first step is seen.
    expect(flagged((await plain.replay('raw/probe-night.csv', night)).scored)).toBeLessThanOrEqual(3);
  });

  it('keeps the season through a restart: the stored baseline reloads with its profile', () => {
    const options = BaselineState.optionsFrom(AppConfig.forTest({}).baseline);
    const reloaded = BaselineState.parse(seasonal.state.serialize(), options);
    const before = seasonal.state.channels().find((c) => c.channel === 'temperature')!.season!;
    const after = reloaded.channels().find((c) => c.channel === 'temperature')!.season!;
    expect(after.period).toBe('daily');
    expect(Array.from(after.deviation)).toEqual(Array.from(before.deviation));
    // The reference app's fields stay where they were.
    const json = JSON.parse(seasonal.state.serialize()) as Record<string, { count: number; mean: number; std: number }>;
    expect(Object.keys(json.temperature)).toEqual(expect.arrayContaining(['count', 'mean', 'M2', 'std']));
  });
});

describe('seasonal baselines per entity', () => {
  /** Host a peaks at 13:00, host b at 01:00 (a night shift): each must be judged against its own day. */
  const level = (host: 'a' | 'b', t: number) => {
    const hour = ((t / 3_600_000) % 24 + (host === 'b' ? 12 : 0)) % 24;
    return 100 + 300 * Math.max(0, Math.sin((Math.PI * (hour - 7)) / 12)) ** 2;
  };
  const rng = createRng(9);
  const batchAt = (from: number, rows: number, value: (host: 'a' | 'b', t: number) => number) => {
    const lines = ['timestamp,host,load'];
    for (let i = 0; i < rows; i++) {
      const t = START + (from + i) * 60_000;
      for (const host of ['a', 'b'] as const) lines.push(`${new Date(t).toISOString()},${host},${value(host, t).toFixed(2)}`);
    }
    return lines.join('\n') + '\n';
  };
  let replayer: PipelineReplayer;

  beforeAll(async () => {
    replayer = await PipelineReplayer.create('seasonal-entities', pipelineSettings(AppConfig.forTest({ ENTITY_COLUMN: 'host' })));
    const noise = () => (rng() - 0.5) * 16;
    for (let m = 0; m < 4 * 1440; m += 50) await replayer.replay(`raw/hosts_${m}.csv`, batchAt(m, 50, (h, t) => level(h, t) + noise()));
  }, 120_000);

  afterAll(() => replayer?.close());

  it('finds each host its own day, and flags each host against it', async () => {
    const seasonal = replayer.state.channels().filter((c) => c.entity !== undefined).map((c) => [c.entity, c.season?.period ?? null]);
    expect(Object.fromEntries(seasonal)).toEqual({ a: 'daily', b: 'daily' });
    // Day 5, 01:00-01:30: both hosts at 390, b's usual level then and far above a's night.
    const night = 4 * 1440 + 60;
    const cols = readScoredColumns((await replayer.replay('raw/hosts_probe.csv', batchAt(night, 30, () => 390))).scored, 'probe');
    const flaggedOf = (host: number) => cols.anomaly.filter((_, i) => i % 2 === host).reduce((x, y) => x + y, 0);
    expect(flaggedOf(0)).toBeGreaterThanOrEqual(25); // host a
    expect(flaggedOf(1)).toBeLessThanOrEqual(2); // host b
  });
});
