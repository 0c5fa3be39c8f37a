import { RowScore } from '../detection/detection.types';
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

describe('ContributionBuilder', () => {
  it('splits values into accepted and rejected per channel, skipping missing ones', () => {
    const b = new ContributionBuilder(['a', 'b'], 4);
    b.add(Float64Array.of(1, 10), 0, undefined, score(2), 2);
    b.add(Float64Array.of(3, NaN), 0, undefined, score(2), 3);
    b.add(Float64Array.of(100, 12), 0, undefined, score(2, [0]), 4);
    const c = b.build();
    expect(c.windowColumns).toEqual(['a', 'b']);
    const [a, bb] = c.channels;
    expect(a.channel).toBe('a');
    expect(a.entity).toBeUndefined();
    expect([a.accepted.count, a.accepted.mean, a.rejected.count, a.rejected.mean]).toEqual([2, 2, 1, 100]);
    expect([bb.accepted.count, bb.accepted.mean, bb.rejected.count]).toEqual([2, 11, 0]);
    expect(b.acceptedCounts()).toEqual([2, 2]);
    // The anomalous row is not a normal row; the NaN stays NaN for the window to handle.
    expect(c.normalRows.map((r) => r.values)).toEqual([[1, 10], [3, NaN]]);
  });

  it('keeps the last `windowCapacity` normal rows, oldest first', () => {
    const b = new ContributionBuilder(['x'], 3);
    for (let i = 0; i < 10; i++) b.add(Float64Array.of(i), 0, undefined, i === 8 ? score(1, [0]) : score(1), i + 2);
    b.add(Float64Array.of(NaN), 0, undefined, score(1, [], { scorable: false }), 12);
    expect(b.build().normalRows.map((r) => r.values[0])).toEqual([6, 7, 9]);
  });

  it('keeps separate statistics per entity', () => {
    const b = new ContributionBuilder(['x'], 8);
    b.add(Float64Array.of(1), 0, 'h1', score(1), 2);
    b.add(Float64Array.of(5), 0, 'h2', score(1), 3);
    b.add(Float64Array.of(3), 0, 'h1', score(1), 4);
    const c = b.build();
    expect(c.channels.map((e) => [e.entity, e.channel, e.accepted.count, e.accepted.mean])).toEqual([
      ['h1', 'x', 2, 2],
      ['h2', 'x', 1, 5],
    ]);
    expect(c.normalRows.map((r) => r.entity)).toEqual(['h1', 'h2', 'h1']);
  });

  it('refuses a batch with too many distinct entities', () => {
    const b = new ContributionBuilder(['x'], 0);
    for (let i = 0; i < MAX_ENTITIES_PER_BATCH; i++) b.add(Float64Array.of(1), 0, `e${i}`, score(1), i + 2);
    expect(() => b.add(Float64Array.of(1), 0, 'one-more', score(1), 99)).toThrow(BadInputError);
  });
});
