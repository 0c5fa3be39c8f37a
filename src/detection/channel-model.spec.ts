import { buildChannelModel, COLD_START_MIN_VALUES, flagShare, robustCenterScale, SMOOTH_RATIO } from './channel-model';
import { ChannelBaseline } from './detection.types';
import { createRng, standardNormal } from './seeded-random';
import { TwoSidedSketch } from './tail-sketch';

const SETTINGS = { alpha: 0.001, zThreshold: 3, minCount: 30, channels: 4 };
const base = (b: Partial<ChannelBaseline> = {}): ChannelBaseline => ({ count: 1000, mean: 0, std: 1, skewness: 0, kurtosis: 0, ...b });
const tails = (values: number[]) => {
  const t = new TwoSidedSketch();
  for (const v of values) t.add(v);
  return t;
};

describe('buildChannelModel', () => {
  it('cold start never divides by a zero MAD: a resting or quantised sample keeps a scale', () => {
    // 80 % zeros: the MAD is 0, the trimmed std is not.
    const sample = Float64Array.from({ length: 100 }, (_, i) => (i % 5 === 0 ? 1 + (i % 3) : 0));
    expect(robustCenterScale(sample).scale).toBeGreaterThan(0.3);
    const m = buildChannelModel(undefined, SETTINGS, sample, undefined);
    expect(m.test).toBe('cold');
    expect(m.tested!.scale).toBeGreaterThan(0.3);
    // A value it showed in the batch is not beyond the limits.
    expect(3 / m.tested!.scale).toBeLessThan(m.upper[1]);
    expect(buildChannelModel(undefined, SETTINGS, sample.subarray(0, COLD_START_MIN_VALUES - 1), undefined).test).toBe('none');
  });

  it('floors the scale by the resolution: a step to a value shown before is a scale unit, not thousands', () => {
    const m = buildChannelModel(base({ std: 0, mean: 0.054711, resolution: 0.361 }), SETTINGS, undefined, undefined);
    expect(m.tested!.scale).toBeCloseTo(0.361, 9);
    expect(m.zScale).toBeCloseTo(0.361, 9);
  });

  it('judges a smooth channel by its changes once it has learned them', () => {
    const rng = createRng(3);
    const level = tails(Array.from({ length: 500 }, () => standardNormal(rng)));
    const change = tails(Array.from({ length: 500 }, () => standardNormal(rng)));
    const smooth = buildChannelModel(base({ tails: level, change: { count: 500, mean: 0, std: 0.2, tails: change }, last: 3 }), SETTINGS, undefined, undefined);
    expect(smooth.test).toBe('change');
    expect(smooth.tested!.scale).toBeCloseTo(0.2, 9);
    expect(smooth.previous).toBe(3);
    const noisy = buildChannelModel(base({ tails: level, change: { count: 500, mean: 0, std: SMOOTH_RATIO * 1.01, tails: change } }), SETTINGS, undefined, undefined);
    expect(noisy.test).toBe('level');
  });

  it('flag limits grow with the number of channels tested in the row (Bonferroni), and never go below Z_THRESHOLD', () => {
    const m = buildChannelModel(base(), SETTINGS, undefined, undefined);
    expect(m.upper[1]).toBeCloseTo(3.29, 2);
    expect(m.upper[4]).toBeCloseTo(3.66, 2);
    expect(m.logLimit[4]).toBeCloseTo(Math.log(0.001 / 8), 12);
    expect(flagShare(4, 0.2, 3)).toBeCloseTo(0.00135, 5);
  });

  it('marks the values a quantised channel often takes as ordinary', () => {
    const m = buildChannelModel(base({ mean: 0.4, std: 0.1, discrete: { values: [0, 20], weights: [980, 20] } }), SETTINGS, undefined, undefined);
    expect(m.level!.ordinary!.has(20)).toBe(true);
  });
});
