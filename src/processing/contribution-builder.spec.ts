import { DEFAULT_RELEARN_AFTER, EPISODE_ON } from '../baseline/channel-learning';
import { buildChannelModel, ChannelModel } from '../detection/channel-model';
import { ChannelBaseline, RowScore } from '../detection/detection.types';
import { BadInputError } from './bad-input.error';
import { ContributionBuilder, MAX_ENTITIES_PER_BATCH } from './contribution-builder';

function score(k: number, anomalous: number[] = [], fill: Partial<RowScore> = {}): RowScore {
  const channelAnomalous = new Int8Array(k);
  for (const c of anomalous) channelAnomalous[c] = 1;
  return {
    z: new Float64Array(k),
    zFlag: new Int8Array(k),
    channelAnomalous,
    ifScore: 0,
    ifLabel: 1,
    ifFlag: false,
    anomaly: anomalous.length > 0,
    anomalyScore: 0,
    reasons: '',
    scorable: true,
    ...fill,
  };
}

const SETTINGS = { alpha: 0.001, zThreshold: 3, minCount: 30, channels: 2 };
/** Mature channels with mean 0 and std 1 and no learned tails yet: a Gaussian learning limit of 3.72. */
const mature = (b: Partial<ChannelBaseline> = {}): ChannelModel => buildChannelModel({ count: 1000, mean: 0, std: 1, skewness: 0, kurtosis: 0, ...b }, SETTINGS, undefined, undefined);
const builder = (channels: string[], models: ChannelModel[], capacity = 8) => new ContributionBuilder(channels, { models: () => models }, capacity);

describe('ContributionBuilder', () => {
  it('splits values by their learning limits, raw beyond them and moved to the limit for the moments, skipping missing ones', () => {
    const b = builder(['a', 'b'], [mature(), mature()]);
    b.add(Float64Array.of(1, 0.5), 0, undefined, score(2), 2);
    b.add(Float64Array.of(-1, NaN), 0, undefined, score(2), 3);
    b.add(Float64Array.of(100, 0.25), 0, undefined, score(2, [0]), 4);
    const c = b.build();
    expect(c.windowColumns).toEqual(['a', 'b']);
    const [a, bb] = c.channels;
    expect(a.channel).toBe('a');
    expect(a.entity).toBeUndefined();
    expect([a.accepted.count, a.accepted.mean, a.rejected.count, a.rejected.mean]).toEqual([2, 0, 1, 100]);
    const limit = mature().level!.learnUpper;
    expect(limit).toBeCloseTo(3.719, 3);
    expect(a.winsorised!.count).toBe(1);
    expect(a.winsorised!.mean).toBeCloseTo(limit, 12);
    expect([bb.accepted.count, bb.rejected.count]).toEqual([2, 0]);
    expect(b.acceptedCounts()).toEqual([2, 2]);
    // The anomalous row is not a normal row; the NaN stays NaN for the window to handle.
    expect(c.normalRows.map((r) => r.values)).toEqual([[1, 0.5], [-1, NaN]]);
  });

  it('learns tails of the values within their limits, the changes, the smallest step and the last value', () => {
    const b = builder(['x'], [mature({ last: 0.5 })]);
    for (const [i, v] of [0.5, 0.75, 0.25, 50, 0.5].entries()) b.add(Float64Array.of(v), 0, undefined, score(1), i + 2, 1000 * i);
    const l = b.build().channels[0].learning!;
    // The spike at 50 is outside any episode: not in the tails, but moved to its limit in the moments.
    expect(l.tails.total).toBe(4);
    expect(l.change.count).toBe(5);
    expect(l.resolution).toBeCloseTo(0.25, 12);
    expect(l.last).toBe(0.5);
    expect(l.rows).toBe(5);
    expect(l.time).toBe(4000);
    expect(l.episode.active).toBe(false);
  });

  it('starts an episode when exceedances keep coming, and learns them more as it grows old', () => {
    const relearnAfter = { ...DEFAULT_RELEARN_AFTER, ms: 100 * 60_000 };
    const b = new ContributionBuilder(['x'], { models: () => [mature()], relearnAfter }, 0);
    for (let i = 0; i < 200; i++) b.add(Float64Array.of(10), 0, undefined, score(1), i + 2, i * 60_000);
    const e = b.build().channels[0];
    const l = e.learning!;
    expect(l.episode.active).toBe(true);
    // The episode began once the exceedance rate passed EPISODE_ON: after about 5 values.
    expect(l.episode.startRow).toBeLessThan(1 / EPISODE_ON + 2);
    // Weights ramp from 0 to 1 over 100 minutes, then stay at 1: about 100 / 2 + 95.
    expect(l.tails.total).toBeGreaterThan(135);
    expect(l.tails.total).toBeLessThan(155);
    expect(e.rejected.count).toBe(200);
    // Before the episode, exceedances went to the moments (at their limit) but not to the tails.
    const before = e.winsorised!.count - l.tails.total;
    expect(before).toBeGreaterThanOrEqual(3);
    expect(before).toBeLessThanOrEqual(6);
  });

  it('keeps the last `windowCapacity` normal rows, oldest first', () => {
    const b = builder(['x'], [mature()], 3);
    for (let i = 0; i < 10; i++) b.add(Float64Array.of(i / 10), 0, undefined, i === 8 ? score(1, [0]) : score(1), i + 2);
    b.add(Float64Array.of(NaN), 0, undefined, score(1, [], { scorable: false }), 12);
    expect(b.build().normalRows.map((r) => r.values[0])).toEqual([0.6, 0.7, 0.9]);
  });

  it('keeps separate statistics per entity', () => {
    const b = builder(['x'], [mature()]);
    b.add(Float64Array.of(1), 0, 'h1', score(1), 2);
    b.add(Float64Array.of(2), 0, 'h2', score(1), 3);
    b.add(Float64Array.of(3), 0, 'h1', score(1), 4);
    const c = b.build();
    expect(c.channels.map((e) => [e.entity, e.channel, e.accepted.count, e.accepted.mean])).toEqual([
      ['h1', 'x', 2, 2],
      ['h2', 'x', 1, 2],
    ]);
    expect(c.normalRows.map((r) => r.entity)).toEqual(['h1', 'h2', 'h1']);
  });

  it('refuses a batch with too many distinct entities', () => {
    const b = builder(['x'], [mature()], 0);
    for (let i = 0; i < MAX_ENTITIES_PER_BATCH; i++) b.add(Float64Array.of(1), 0, `e${i}`, score(1), i + 2);
    expect(() => b.add(Float64Array.of(1), 0, 'one-more', score(1), 99)).toThrow(BadInputError);
  });
});
